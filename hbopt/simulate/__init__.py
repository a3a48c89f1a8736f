"""Discrete-event simulation of plans under Poisson and trace-driven load (SPEC section 9).

>>> import hbopt
>>> plan = hbopt.solve(hbopt.example_problem(), "harmony")
>>> report = hbopt.simulate(plan, duration=60, seed=1)
>>> report.violation_rate
0.0
"""

from hbopt.simulate.engine import Batches, form_batches, simulate
from hbopt.simulate.latency import CpuLatency, GpuTimeSlicing, latency_model
from hbopt.simulate.replay import replay_trace, trace_for_app
from hbopt.simulate.report import (
    AppStats,
    GroupStats,
    MinuteStats,
    ReplayReport,
    SimulationReport,
    plot_latency_cdf,
)

__all__ = [
    "AppStats",
    "Batches",
    "CpuLatency",
    "GpuTimeSlicing",
    "GroupStats",
    "MinuteStats",
    "ReplayReport",
    "SimulationReport",
    "form_batches",
    "latency_model",
    "plot_latency_cdf",
    "replay_trace",
    "simulate",
    "trace_for_app",
]
