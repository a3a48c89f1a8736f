"""What a simulation reports: per-app latency and SLO violations, per-group batching and
cost, realised vs predicted cost; JSON and a latency-CDF plot."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hbopt.errors import HboptError, InputError
from hbopt.evaluator import TOL

__all__ = [
    "AppStats",
    "GroupStats",
    "MinuteStats",
    "ReplayReport",
    "SimulationReport",
    "app_stats",
    "plot_latency_cdf",
    "render_plot",
]


def _per(amount: float, count: float, empty: float) -> float:
    """``amount / count``, or ``empty`` when nothing was counted."""
    return amount / count if count else empty


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class AppStats:
    """End-to-end latency (buffer wait + queueing + inference) of one app's requests.

    A request violates its SLO when its latency exceeds ``slo`` by more than 1e-9 s (a
    request that waits its full timeout and then meets ``L_max`` ends exactly at the SLO).
    Percentiles are NaN for an app without requests.
    """

    name: str
    slo: float
    requests: int
    violations: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float
    wait_mean: float
    wait_max: float

    @property
    def violation_rate(self) -> float:
        """Share of requests that missed the SLO (0 without requests)."""
        return _per(self.violations, self.requests, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes null)."""
        out: dict[str, Any] = {
            "slo": self.slo,
            "requests": self.requests,
            "violations": self.violations,
            "violation_rate": self.violation_rate,
        }
        for key in ("p50", "p95", "p99", "max", "mean", "wait_mean", "wait_max"):
            out[key] = _finite_or_none(getattr(self, key))
        return out


def app_stats(name: str, slo: float, latency: np.ndarray, wait: np.ndarray) -> AppStats:
    """Summarise the latencies and buffer waits of one app's requests."""
    if len(latency) == 0:
        nan = math.nan
        return AppStats(name, slo, 0, 0, nan, nan, nan, nan, nan, nan, nan)
    p50, p95, p99 = np.percentile(latency, [50.0, 95.0, 99.0])
    return AppStats(
        name=name,
        slo=slo,
        requests=len(latency),
        violations=int(np.count_nonzero(latency > slo + TOL)),
        p50=float(p50),
        p95=float(p95),
        p99=float(p99),
        max=float(latency.max()),
        mean=float(latency.mean()),
        wait_mean=float(wait.mean()),
        wait_max=float(wait.max()),
    )


@dataclass(frozen=True)
class GroupStats:
    """Batching and cost of one group's function.

    ``batch_histogram`` maps the size of each flushed batch to its count;
    ``timeout_flush_share`` is the share of flushes triggered by a deadline rather than by a
    full buffer. ``latency_avg_model``/``latency_max_model`` are the evaluator's Eqs. 1-4 at
    the configured batch size; ``inference_mean``/``inference_max`` are realised over all
    invocations (any size). ``cost_per_request_predicted`` is Eq. 6.
    """

    apps: tuple[str, ...]
    function: str
    vcpu: float
    memory_gb: float
    gpu_memory_gb: int
    batch: int
    requests: int
    flushes: int
    batch_histogram: dict[int, int]
    timeout_flushes: int
    latency_avg_model: float
    latency_max_model: float
    inference_mean: float
    inference_max: float
    queue_mean: float
    cost_realised: float
    cost_per_request_predicted: float
    inconsistent_profile: bool = False

    @property
    def timeout_flush_share(self) -> float:
        """Share of flushes caused by an expired deadline (0 without flushes)."""
        return _per(self.timeout_flushes, self.flushes, 0.0)

    @property
    def mean_batch(self) -> float:
        """Average size of a flushed batch."""
        return _per(self.requests, self.flushes, 0.0)

    @property
    def cost_per_request_realised(self) -> float:
        """Billed cost divided by requests served (NaN without requests)."""
        return _per(self.cost_realised, self.requests, math.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "apps": list(self.apps),
            "function": self.function,
            "vcpu": self.vcpu,
            "memory_gb": self.memory_gb,
            "gpu_memory_gb": self.gpu_memory_gb,
            "batch": self.batch,
            "requests": self.requests,
            "flushes": self.flushes,
            "batch_histogram": {str(k): v for k, v in sorted(self.batch_histogram.items())},
            "mean_batch": self.mean_batch,
            "timeout_flush_share": self.timeout_flush_share,
            "latency_avg_model": self.latency_avg_model,
            "latency_max_model": self.latency_max_model,
            "inference_mean": _finite_or_none(self.inference_mean),
            "inference_max": _finite_or_none(self.inference_max),
            "queue_mean": _finite_or_none(self.queue_mean),
            "cost_realised": self.cost_realised,
            "cost_per_request_realised": _finite_or_none(self.cost_per_request_realised),
            "cost_per_request_predicted": self.cost_per_request_predicted,
            "inconsistent_profile": self.inconsistent_profile,
        }


def _totals(apps: Mapping[str, AppStats]) -> tuple[int, int]:
    return sum(a.requests for a in apps.values()), sum(a.violations for a in apps.values())


@dataclass(frozen=True)
class SimulationReport:
    """Result of :func:`hbopt.simulate.simulate` for one plan.

    ``cost_per_request_predicted`` is the plan's Eq. 7 cost; ``cost_per_request_realised``
    is everything billed divided by the requests served. ``latencies`` and ``waits`` hold every
    request's end-to-end latency and buffer wait per app (for plots; not part of the JSON).
    """

    method: str
    model: str
    pricing: str
    currency: str
    status: str
    duration_s: float
    seed: int
    noise: float
    concurrency: int | None
    apps: dict[str, AppStats]
    groups: tuple[GroupStats, ...]
    cost_realised: float
    cost_per_request_predicted: float
    wall_time_s: float = field(compare=False)
    latencies: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    waits: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def requests(self) -> int:
        """Requests simulated over all apps."""
        return _totals(self.apps)[0]

    @property
    def violations(self) -> int:
        """Requests that missed their SLO over all apps."""
        return _totals(self.apps)[1]

    @property
    def violation_rate(self) -> float:
        """Share of all requests that missed their SLO."""
        requests, violations = _totals(self.apps)
        return violations / requests if requests else 0.0

    @property
    def cost_per_request_realised(self) -> float:
        """Billed cost per request served (NaN without requests)."""
        return _per(self.cost_realised, self.requests, math.nan)

    @property
    def requests_per_second(self) -> float:
        """Simulation throughput: requests simulated per second of wall time."""
        return self.requests / self.wall_time_s if self.wall_time_s > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``apps``, ``groups``, realised and predicted cost, settings."""
        return {
            "method": self.method,
            "model": self.model,
            "pricing": self.pricing,
            "currency": self.currency,
            "status": self.status,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "noise": self.noise,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "violations": self.violations,
            "violation_rate": self.violation_rate,
            "apps": {name: stats.to_dict() for name, stats in self.apps.items()},
            "groups": [g.to_dict() for g in self.groups],
            "cost_realised": self.cost_realised,
            "cost_per_request_realised": _finite_or_none(self.cost_per_request_realised),
            "cost_per_request_predicted": self.cost_per_request_predicted,
            "wall_time_s": self.wall_time_s,
            "requests_per_second": _finite_or_none(self.requests_per_second),
        }

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def plot(self, path: str | None = None) -> Any:
        """Latency CDF per app (a matplotlib Figure); also saved to ``path`` if given."""
        slos = {name: stats.slo for name, stats in self.apps.items()}
        title = f"{self.method} plan, {self.model}: end-to-end latency"
        return plot_latency_cdf(self.latencies, slos, title=title, path=path)


@dataclass(frozen=True)
class MinuteStats:
    """One minute of a trace replay: the plan made for it and what it did."""

    minute: int
    requests: int
    violations: int
    groups: int
    functions: str
    status: str
    solve_time_s: float
    cost_realised: float
    cost_per_request_predicted: float

    @property
    def violation_rate(self) -> float:
        """Share of the minute's requests that missed their SLO."""
        return _per(self.violations, self.requests, 0.0)

    @property
    def cost_per_request_realised(self) -> float:
        """Billed cost per request in this minute (NaN without requests)."""
        return _per(self.cost_realised, self.requests, math.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "minute": self.minute,
            "requests": self.requests,
            "violations": self.violations,
            "violation_rate": self.violation_rate,
            "groups": self.groups,
            "functions": self.functions,
            "status": self.status,
            "solve_time_s": self.solve_time_s,
            "cost_realised": self.cost_realised,
            "cost_per_request_realised": _finite_or_none(self.cost_per_request_realised),
            "cost_per_request_predicted": self.cost_per_request_predicted,
        }


@dataclass(frozen=True)
class ReplayReport:
    """Result of :func:`hbopt.simulate.replay_trace`: per minute and in total.

    ``cost_predicted`` sums each minute's Eq. 7 cost times the requests it served.
    """

    method: str
    model: str
    pricing: str
    currency: str
    seed: int
    noise: float
    minutes: tuple[MinuteStats, ...]
    apps: dict[str, AppStats]
    wall_time_s: float = field(compare=False)
    latencies: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def requests(self) -> int:
        """Requests replayed over all minutes."""
        return sum(m.requests for m in self.minutes)

    @property
    def violations(self) -> int:
        """Requests that missed their SLO over all minutes."""
        return sum(m.violations for m in self.minutes)

    @property
    def violation_rate(self) -> float:
        """Share of all requests that missed their SLO."""
        return _per(self.violations, self.requests, 0.0)

    @property
    def cost_realised(self) -> float:
        """Everything billed over all minutes."""
        return sum(m.cost_realised for m in self.minutes)

    @property
    def cost_predicted(self) -> float:
        """Sum over minutes of the plan's Eq. 7 cost times the minute's requests."""
        return sum(m.cost_per_request_predicted * m.requests for m in self.minutes)

    @property
    def cost_per_request_realised(self) -> float:
        """Billed cost per request over the replay (NaN without requests)."""
        return _per(self.cost_realised, self.requests, math.nan)

    @property
    def cost_per_request_predicted(self) -> float:
        """Predicted (Eq. 7) cost per request over the replay (NaN without requests)."""
        return _per(self.cost_predicted, self.requests, math.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``minutes``, ``apps``, totals and realised/predicted cost."""
        return {
            "method": self.method,
            "model": self.model,
            "pricing": self.pricing,
            "currency": self.currency,
            "seed": self.seed,
            "noise": self.noise,
            "requests": self.requests,
            "violations": self.violations,
            "violation_rate": self.violation_rate,
            "apps": {name: stats.to_dict() for name, stats in self.apps.items()},
            "minutes": [m.to_dict() for m in self.minutes],
            "cost_realised": self.cost_realised,
            "cost_predicted": self.cost_predicted,
            "cost_per_request_realised": _finite_or_none(self.cost_per_request_realised),
            "cost_per_request_predicted": _finite_or_none(self.cost_per_request_predicted),
            "wall_time_s": self.wall_time_s,
        }

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def plot(self, path: str | None = None) -> Any:
        """Latency CDF per app over the whole replay; also saved to ``path`` if given."""
        slos = {name: stats.slo for name, stats in self.apps.items()}
        title = f"{self.method}, trace replay ({len(self.minutes)} min), {self.model}"
        return plot_latency_cdf(self.latencies, slos, title=title, path=path)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise HboptError(
            "plotting needs matplotlib: pip install 'hbopt[sim]' (or matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_latency_cdf(
    latencies: Mapping[str, np.ndarray],
    slos: Mapping[str, float],
    *,
    title: str = "end-to-end latency",
    path: str | None = None,
) -> Any:
    """Empirical latency CDF of every app with its SLO as a dashed line (matplotlib Figure).

    Saved to ``path`` (format from its suffix) when given.
    """
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.0, 4.5))
    for index, (name, values) in enumerate(latencies.items()):
        if len(values) == 0:
            continue
        color = f"C{index % 10}"
        ordered = np.sort(values)
        # At most 2000 points per curve: the plot looks the same and stays small.
        pick = np.unique(np.linspace(0, len(ordered) - 1, min(len(ordered), 2000)).astype(int))
        axes.step(ordered[pick], (pick + 1) / len(ordered), where="post", color=color, label=name)
        if name in slos:
            axes.axvline(slos[name], color=color, linestyle="--", linewidth=0.8)
    axes.set_xlabel("latency (s): buffer wait + inference; dashed: SLO")
    axes.set_ylabel("share of requests")
    axes.set_ylim(0.0, 1.01)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    if path is not None:
        figure.savefig(path)
    return figure


def render_plot(figure: Any, suffix: str) -> bytes:
    """The figure as bytes in the format named by a file suffix (``.png``, ``.pdf``, ...)."""
    formats = figure.canvas.get_supported_filetypes()
    kind = suffix.lower().lstrip(".")
    if kind not in formats:
        raise InputError(
            f"cannot plot to a {suffix or 'suffix-less'!r} file: use one of "
            + ", ".join(f".{k}" for k in sorted(formats))
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind)
    _pyplot().close(figure)
    return buffer.getvalue()


def plot_formats() -> Sequence[str]:
    """File suffixes matplotlib can write (without the dot)."""
    plt = _pyplot()
    figure = plt.figure()
    try:
        return sorted(figure.canvas.get_supported_filetypes())
    finally:
        plt.close(figure)
