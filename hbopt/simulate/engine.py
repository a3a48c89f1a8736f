"""The discrete-event simulation of a plan's batching buffers and functions (SPEC section 9).

Every group has one buffer. A buffered request carries the deadline ``arrival + timeout`` of
its app; the buffer flushes when it holds ``batch`` requests or when its earliest deadline
expires, and every flush is one invocation of the group's function. Serverless functions
scale out, so invocations do not wait for each other unless a concurrency limit is given
(then formed batches queue first-in first-out for one of ``concurrency`` instances).

The simulation is vectorised: for every request the size of the batch that *would* start
with it follows from a window of the next ``batch`` arrivals and the running minimum of their
deadlines (numpy, in chunks); the actual batches are then the chain start -> start + size,
walked in a loop over flushes rather than requests.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hbopt.errors import InputError
from hbopt.evaluator import TOL, function_configs, invocation_cost
from hbopt.plan import Group, Plan
from hbopt.problem import Problem
from hbopt.simulate.latency import CpuLatency, latency_model
from hbopt.simulate.report import GroupStats, SimulationReport, app_stats

__all__ = ["Batches", "form_batches", "simulate"]

_CHUNK = 1 << 15


@dataclass(frozen=True)
class Batches:
    """The flushes of one buffer: first request, size, flush time and cause of each."""

    starts: np.ndarray
    sizes: np.ndarray
    flush_times: np.ndarray
    by_timeout: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def _candidate_sizes(arrivals: np.ndarray, deadlines: np.ndarray, batch: int) -> np.ndarray:
    """Size of the batch that would start with each request (ignoring earlier batches)."""
    n = len(arrivals)
    pad = np.full(batch - 1, np.inf)
    arrivals, deadlines = np.concatenate([arrivals, pad]), np.concatenate([deadlines, pad])
    sizes = np.empty(n, dtype=np.int64)
    for low in range(0, n, _CHUNK):
        high = min(n, low + _CHUNK)
        window = sliding_window_view(arrivals[low : high + batch - 1], batch)
        earliest = np.minimum.accumulate(
            sliding_window_view(deadlines[low : high + batch - 2], batch - 1), axis=1
        )
        # Request k of the window joins when it arrives before every deadline so far.
        stops = window[:, 1:] > earliest
        sizes[low:high] = np.where(stops.any(axis=1), stops.argmax(axis=1), batch - 1) + 1
    return sizes


def form_batches(arrivals: np.ndarray, deadlines: np.ndarray, batch: int) -> Batches:
    """Run one buffer over requests sorted by arrival, each with its own deadline.

    A batch flushes at the arrival of its ``batch``-th request or at the earliest deadline
    among its requests, whichever comes first; the next request then opens a new batch.
    """
    n = len(arrivals)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Batches(empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    if batch == 1:
        starts = np.arange(n)
        sizes = np.ones(n, dtype=np.int64)
    else:
        jump = (np.arange(n) + _candidate_sizes(arrivals, deadlines, batch)).tolist()
        chain, i = [], 0
        while i < n:
            chain.append(i)
            i = jump[i]
        starts = np.asarray(chain, dtype=np.int64)
        sizes = np.diff(np.append(starts, n))
    full = sizes == batch
    earliest = np.minimum.reduceat(deadlines, starts)
    flush = np.where(full, arrivals[starts + sizes - 1], earliest)
    return Batches(starts, sizes, flush, ~full)


def _queue(flush: np.ndarray, duration: np.ndarray, concurrency: int | None) -> np.ndarray:
    """Start time of each invocation: at its flush, or when one of ``concurrency`` FIFO
    instances is free."""
    if concurrency is None:
        return flush
    free = [0.0] * concurrency
    starts = []
    for at, length in zip(flush.tolist(), duration.tolist(), strict=True):
        begin = max(at, free[0])
        heapq.heapreplace(free, begin + length)
        starts.append(begin)
    return np.asarray(starts)


@dataclass(frozen=True)
class _GroupRun:
    apps: np.ndarray
    latency: np.ndarray
    wait: np.ndarray
    stats: GroupStats


def _run_group(
    problem: Problem,
    group: Group,
    streams: list[tuple[int, float, np.ndarray]],
    rng: np.random.Generator,
    noise: float,
    concurrency: int | None,
    concentration: float,
) -> _GroupRun:
    """Simulate one group; ``streams`` holds ``(app slot, timeout, arrival times)`` per app."""
    slots = np.array([slot for slot, _, _ in streams], dtype=np.int64)
    timeouts = np.array([max(timeout, 0.0) for _, timeout, _ in streams])
    times = np.concatenate([t for _, _, t in streams])
    labels = np.repeat(np.arange(len(streams)), [len(t) for _, _, t in streams])
    order = np.argsort(times, kind="stable")
    times, labels = times[order], labels[order]
    deadlines = times + timeouts[labels]

    batches = form_batches(times, deadlines, group.batch)
    model = latency_model(problem, group, concentration=concentration)
    inference = model.sample(batches.sizes, rng, noise)
    begin = _queue(batches.flush_times, inference, concurrency)

    which = np.repeat(np.arange(len(batches)), batches.sizes)
    wait = batches.flush_times[which] - times
    latency = begin[which] + inference[which] - times

    is_gpu = group.function == "gpu"
    size = float(group.gpu_memory_gb) if is_gpu else group.vcpu
    config = function_configs(
        problem, np.array([is_gpu]), np.array([size]), np.array([group.batch])
    )
    billing = problem.pricing.gpu if is_gpu else problem.pricing.cpu
    cost = invocation_cost(
        billing, inference, config.vcpu[0], config.memory_gb[0], config.gpu_memory_gb[0]
    )
    histogram = np.bincount(batches.sizes, minlength=group.batch + 1)
    empty = len(batches) == 0
    stats = GroupStats(
        apps=group.apps,
        function=group.function,
        vcpu=float(config.vcpu[0]),
        memory_gb=float(config.memory_gb[0]),
        gpu_memory_gb=int(config.gpu_memory_gb[0]),
        batch=group.batch,
        requests=len(times),
        flushes=len(batches),
        batch_histogram={k: int(c) for k, c in enumerate(histogram) if c},
        timeout_flushes=int(batches.by_timeout.sum()),
        latency_avg_model=float(config.latency_avg[0]),
        latency_max_model=float(config.latency_max[0]),
        inference_mean=math.nan if empty else float(inference.mean()),
        inference_max=math.nan if empty else float(inference.max()),
        queue_mean=math.nan if empty else float((begin - batches.flush_times).mean()),
        cost_realised=float(cost.sum()),
        cost_per_request_predicted=float(config.cost_per_request[0]),
        inconsistent_profile=isinstance(model, CpuLatency) and model.inconsistent,
    )
    return _GroupRun(slots[labels], latency, wait, stats)


def _positive(name: str, value: float) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value <= 0:
        raise InputError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _parts(plan: Plan) -> dict[str, list[tuple[int, float]]]:
    """Per app: the groups serving it and the rate each part carries."""
    slos = {app.name: app.slo for app in plan.problem.apps}
    parts: dict[str, list[tuple[int, float]]] = {}
    for number, group in enumerate(plan.groups):
        for name in group.apps:
            if name not in slos:
                raise InputError(
                    f"group {number} serves app {name!r}, which the plan's problem does not "
                    f"have (apps: {', '.join(slos)})"
                )
            if group.timeouts[name] < -TOL:
                raise InputError(
                    f"group {number}: app {name!r} has a negative timeout "
                    f"{group.timeouts[name]:g} s"
                )
            parts.setdefault(name, []).append((number, group.app_rates[name]))
    return parts


def simulate(
    plan: Plan,
    *,
    duration: float = 600.0,
    seed: int = 0,
    noise: float = 1.0,
    arrivals: Mapping[str, np.ndarray] | None = None,
    concurrency: int | None = None,
    concentration: float = 4.0,
) -> SimulationReport:
    """Simulate ``plan`` and report SLO violations, latency percentiles, batching and cost.

    Parameters
    ----------
    plan : the plan; its embedded problem gives SLOs, profile and pricing.
    duration : seconds of Poisson arrivals (every app at its planned rate).
    seed : seed of every random draw (arrivals, split-app routing, latencies).
    noise : factor on every latency (CPU latency, GPU work); 1.0 = the profile.
    arrivals : arrival times (seconds) per app name instead of Poisson arrivals; an app
        missing from the mapping gets no requests. An app split across groups sends each
        request to a part with probability proportional to the part's rate.
    concurrency : at most this many concurrent invocations per group (FIFO queue of formed
        batches); None = unlimited, as serverless functions scale out.
    concentration : Beta concentration of the CPU latency distribution (see
        :class:`~hbopt.simulate.latency.CpuLatency`).
    """
    start = time.perf_counter()
    duration = _positive("duration", duration)
    noise = _positive("noise", noise)
    concentration = _positive("concentration", concentration)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be an integer >= 0, got {seed!r}")
    if concurrency is not None and (
        not isinstance(concurrency, (int, np.integer))
        or isinstance(concurrency, bool)
        or concurrency < 1
    ):
        raise InputError(f"concurrency must be an integer >= 1 or None, got {concurrency!r}")
    problem = plan.problem
    parts = _parts(plan)
    names = [app.name for app in problem.apps]
    if arrivals is not None:
        unknown = [name for name in arrivals if name not in parts]
        if unknown:
            raise InputError(
                f"arrivals for app {unknown[0]!r}, which the plan does not serve "
                f"(it serves {', '.join(n for n in names if n in parts)})"
            )

    streams = np.random.SeedSequence(seed).spawn(2 + len(plan.groups))
    arrival_rng, routing_rng = (np.random.default_rng(s) for s in streams[:2])
    per_group: list[list[tuple[int, float, np.ndarray]]] = [[] for _ in plan.groups]
    for slot, name in enumerate(names):
        if name not in parts:
            continue
        rates = np.array([rate for _, rate in parts[name]])
        if arrivals is None:
            count = arrival_rng.poisson(rates.sum() * duration)
            times = arrival_rng.uniform(0.0, duration, count)
        else:
            times = np.asarray(arrivals.get(name, ()), dtype=float).ravel()
            if times.size and not (np.isfinite(times).all() and times.min() >= 0):
                raise InputError(f"arrivals of app {name!r} must be finite times >= 0")
        if len(parts[name]) == 1:
            routes = np.zeros(len(times), dtype=np.int64)
        else:
            share = np.cumsum(rates) / rates.sum()
            routes = np.searchsorted(share, routing_rng.uniform(size=len(times)), side="right")
            routes = np.minimum(routes, len(rates) - 1)
        for part, (number, _) in enumerate(parts[name]):
            timeout = plan.groups[number].timeouts[name]
            per_group[number].append((slot, timeout, times[routes == part]))

    runs = [
        _run_group(
            problem,
            group,
            per_group[number],
            np.random.default_rng(streams[2 + number]),
            noise,
            concurrency,
            concentration,
        )
        for number, group in enumerate(plan.groups)
    ]
    slot_of = np.concatenate([run.apps for run in runs])
    latency = np.concatenate([run.latency for run in runs])
    wait = np.concatenate([run.wait for run in runs])
    order = np.argsort(slot_of, kind="stable")
    bounds = np.searchsorted(slot_of[order], np.arange(len(names) + 1))
    apps, latencies, waits = {}, {}, {}
    for slot, app in enumerate(problem.apps):
        if app.name not in parts:
            continue
        pick = order[bounds[slot] : bounds[slot + 1]]
        latencies[app.name], waits[app.name] = latency[pick], wait[pick]
        apps[app.name] = app_stats(app.name, app.slo, latency[pick], wait[pick])
    return SimulationReport(
        method=plan.method,
        model=plan.model,
        pricing=plan.pricing,
        currency=problem.pricing.currency,
        status=plan.status.value,
        duration_s=duration,
        seed=int(seed),
        noise=noise,
        concurrency=None if concurrency is None else int(concurrency),
        apps=apps,
        groups=tuple(run.stats for run in runs),
        cost_realised=float(sum(run.stats.cost_realised for run in runs)),
        cost_per_request_predicted=plan.cost_per_request,
        wall_time_s=time.perf_counter() - start,
        latencies=latencies,
        waits=waits,
    )
