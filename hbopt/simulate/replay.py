"""Trace replay: re-plan every minute from that minute's rates and simulate it (paper Fig. 11/12).

App ``i`` (1-based) follows trace ``((i - 1) mod T) + 1`` of the ``T`` traces given (the
paper's mapping with its four Azure traces). In minute ``k`` app ``i`` sends exactly the
trace's request count for that minute (times a scale, rounded), at uniformly random times
within the minute: a Poisson process conditioned on its count. The minute's plan is made by
any registered method for the rates ``count / 60``; apps without requests in a minute are
left out of that minute's problem. Requests arriving in minute ``k`` are served by minute
``k``'s plan: its buffers still flush at their deadlines after the minute ends.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hbopt.errors import HboptError, InputError
from hbopt.methods import METHODS
from hbopt.pricing import Pricing, get_pricing
from hbopt.problem import App, Problem
from hbopt.profile import Profile, load_profile
from hbopt.simulate.engine import simulate
from hbopt.simulate.report import MinuteStats, ReplayReport, app_stats
from hbopt.solve import solve
from hbopt.traces import bundled_traces, load_trace

__all__ = ["replay_trace", "trace_for_app"]

MINUTE_S = 60.0


def trace_for_app(app: int, traces: int) -> int:
    """0-based trace index of 0-based app ``app`` among ``traces`` traces (``i mod T``)."""
    return app % traces


def _load_traces(traces: Sequence[np.ndarray | str | Path] | None) -> list[np.ndarray]:
    if traces is None:
        traces = list(bundled_traces().values())
    loaded = [
        np.asarray(t, dtype=float) if isinstance(t, np.ndarray) else load_trace(t) for t in traces
    ]
    if not loaded:
        raise InputError("no traces given: pass minute,requests CSV files or use the bundled set")
    for index, trace in enumerate(loaded):
        if trace.ndim != 1 or len(trace) == 0 or not np.all(np.isfinite(trace) & (trace >= 0)):
            raise InputError(f"trace {index + 1} must be a non-empty list of counts >= 0")
    return loaded


def _describe(plan: Any) -> str:
    """Compact plan summary, e.g. ``gpu:2GB/b12, cpu:1.5vCPU/b2 x4``."""
    kinds: Counter[str] = Counter()
    for group in plan.groups:
        gpu = group.function == "gpu"
        resource = f"{group.gpu_memory_gb}GB" if gpu else f"{group.vcpu:g}vCPU"
        kinds[f"{group.function}:{resource}/b{group.batch}"] += 1
    return ", ".join(kind if n == 1 else f"{kind} x{n}" for kind, n in kinds.items())


def replay_trace(
    slos: Sequence[float],
    traces: Sequence[np.ndarray | str | Path] | None = None,
    *,
    model: str | Path | Profile = "vgg19",
    method: str = "harmony",
    pricing: str | Pricing = "alibaba-reference",
    minutes: int | None = None,
    seed: int = 0,
    noise: float = 1.0,
    rate_scale: float = 1.0,
    margin: float = 1.0,
    gpu_shares: bool = False,
    concurrency: int | None = None,
    time_limit: float | None = None,
    method_options: Mapping[str, Any] | None = None,
    names: Sequence[str] | None = None,
) -> ReplayReport:
    """Replay per-minute request traces: plan every minute with ``method``, simulate it.

    Parameters
    ----------
    slos : one SLO (seconds) per app; app ``i`` follows trace ``i mod len(traces)``.
    traces : per-minute request counts (arrays, bundled trace names or CSV paths); None = the
        four bundled Azure traces.
    model, pricing, margin, gpu_shares : as for :class:`~hbopt.problem.Problem`.
    method, time_limit, method_options : any registered planning method and its options.
    minutes : replay the first ``minutes`` minutes (None: as long as the shortest trace used).
    seed, noise, concurrency : as for :func:`~hbopt.simulate.simulate`.
    rate_scale : factor on every trace count.
    names : app names (default ``app1``, ``app2``, ...).
    """
    start = time.perf_counter()
    if not slos:
        raise InputError("give at least one SLO (one per app)")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be an integer >= 0, got {seed!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise > 0):
        raise InputError(f"noise must be a finite number > 0, got {noise!r}")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}: choose one of {', '.join(sorted(METHODS))}")
    if not (isinstance(rate_scale, (int, float)) and math.isfinite(rate_scale) and rate_scale > 0):
        raise InputError(f"rate_scale must be a finite number > 0, got {rate_scale!r}")
    names = [f"app{i + 1}" for i in range(len(slos))] if names is None else list(names)
    if len(names) != len(slos):
        raise InputError(f"{len(names)} app names for {len(slos)} SLOs: give one name per SLO")
    for name, slo in zip(names, slos, strict=True):
        App(name, slo=slo, rate=1.0)  # validates the SLO with the app's name in the message
    loaded = _load_traces(traces)
    counts = [loaded[trace_for_app(i, len(loaded))] * rate_scale for i in range(len(slos))]
    available = min(len(c) for c in counts)
    if minutes is None:
        minutes = available
    if not isinstance(minutes, (int, np.integer)) or isinstance(minutes, bool) or minutes < 1:
        raise InputError(f"minutes must be an integer >= 1, got {minutes!r}")
    if minutes > available:
        raise InputError(f"minutes {minutes} exceeds the {available} minutes the traces cover")
    profile = model if isinstance(model, Profile) else load_profile(model)
    pricing = get_pricing(pricing)
    options = dict(method_options or {})

    rng = np.random.default_rng(seed)
    minute_seeds = rng.integers(0, 2**63 - 1, size=minutes)
    rows: list[MinuteStats] = []
    latencies: dict[str, list[np.ndarray]] = {name: [] for name in names}
    waits: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for minute in range(minutes):
        expected = [float(c[minute]) for c in counts]
        active = [i for i, n in enumerate(expected) if n > 0]
        if not active:
            rows.append(MinuteStats(minute, 0, 0, 0, "", "idle", 0.0, 0.0, 0.0))
            continue
        apps = [App(names[i], slo=slos[i], rate=expected[i] / MINUTE_S) for i in active]
        try:
            problem = Problem(
                apps=tuple(apps),
                profile=profile,
                pricing=pricing,
                margin=margin,
                gpu_shares=gpu_shares,
            )
            plan = solve(problem, method, time_limit=time_limit, seed=seed, **options)
        except HboptError as exc:
            raise type(exc)(f"minute {minute}: {exc}") from None
        arrival_rng = np.random.default_rng(minute_seeds[minute])
        arrivals = {
            names[i]: arrival_rng.uniform(0.0, MINUTE_S, round(expected[i])) for i in active
        }
        report = simulate(
            plan,
            duration=MINUTE_S,
            seed=int(minute_seeds[minute]),
            noise=noise,
            arrivals=arrivals,
            concurrency=concurrency,
        )
        for name, values in report.latencies.items():
            latencies[name].append(values)
            waits[name].append(report.waits[name])
        rows.append(
            MinuteStats(
                minute=minute,
                requests=report.requests,
                violations=report.violations,
                groups=len(plan.groups),
                functions=_describe(plan),
                status=plan.status.value,
                solve_time_s=plan.solve_time_s,
                cost_realised=report.cost_realised,
                cost_per_request_predicted=plan.cost_per_request,
            )
        )
    apps_out, joined = {}, {}
    for i, name in enumerate(names):
        values = np.concatenate(latencies[name]) if latencies[name] else np.zeros(0)
        wait = np.concatenate(waits[name]) if waits[name] else np.zeros(0)
        joined[name] = values
        apps_out[name] = app_stats(name, float(slos[i]), values, wait)
    return ReplayReport(
        method=method,
        model=profile.name,
        pricing=pricing.name,
        currency=pricing.currency,
        seed=seed,
        noise=noise,
        minutes=tuple(rows),
        apps=apps_out,
        wall_time_s=time.perf_counter() - start,
        latencies=joined,
    )
