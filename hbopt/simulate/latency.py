"""Latency of one invocation for its actual batch size (SPEC section 9).

Both models take their parameters from the evaluator, never from a formula of their own:

- :class:`CpuLatency`: a scaled Beta distribution whose mean is exactly the profile's
  ``L_avg(b, c)`` (Eq. 1) and whose support ends at ``L_max(b, c)``.
- :class:`GpuTimeSlicing`: the time-slicing mechanism itself. The function owns ``m``
  consecutive slices of ``tau`` out of every ``M``; an invocation starts at a uniformly random
  phase of that period and needs the whole-GPU work ``L0`` (Eq. 2, from
  :func:`hbopt.evaluator.gpu_work`) of active time. Eq. 3 and Eq. 4 then emerge: the
  maximum is exactly Eq. 4, and the mean is Eq. 3 up to a slicing term of at most
  ``(M - m)^2 tau / (2 M)`` (see docs/simulator.md).

``noise`` multiplies the work (CPU latency, GPU work and host time) for robustness studies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hbopt.errors import InputError
from hbopt.evaluator import TOL, function_configs, gpu_work
from hbopt.plan import Group
from hbopt.problem import Problem

__all__ = ["CpuLatency", "GpuTimeSlicing", "LatencyModel", "latency_model"]


@dataclass(frozen=True)
class CpuLatency:
    """CPU latency per batch size ``k = 1 .. len(mean)``: ``lo + (hi - lo) * Beta(k p, k (1-p))``.

    ``hi = L_max``, ``lo = max(0, 2 L_avg - L_max)`` and ``p = (L_avg - lo) / (hi - lo)``, so
    the mean is exactly ``L_avg`` and no draw exceeds ``L_max``; when ``L_avg`` is at least
    half of ``L_max`` the distribution is symmetric about ``L_avg`` (Beta(2, 2) with the
    default ``concentration`` 4). Where a profile's fitted ``L_max`` is not above ``L_avg``
    (``inconsistent``), the latency is the constant ``L_avg``: the cost model is kept, and
    the simulation shows what the optimistic bound costs in SLO violations.
    """

    mean: np.ndarray
    maximum: np.ndarray
    concentration: float = 4.0

    @property
    def inconsistent(self) -> bool:
        """True when some batch size has ``L_max <= L_avg`` in the profile."""
        return bool(np.any(self.maximum <= self.mean))

    def sample(self, sizes: np.ndarray, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
        """One latency (seconds) per invocation of batch size ``sizes[i]``."""
        mean, high = self.mean[sizes - 1], self.maximum[sizes - 1]
        low = np.maximum(0.0, 2.0 * mean - high)
        span = high - low
        spread = span > TOL
        share = np.where(spread, (mean - low) / np.where(spread, span, 1.0), 0.5)
        share = np.clip(share, 1e-6, 1.0 - 1e-6)
        draw = rng.beta(self.concentration * share, self.concentration * (1.0 - share))
        return np.where(spread, low + span * draw, mean) * noise


@dataclass(frozen=True)
class GpuTimeSlicing:
    """GPU latency per batch size ``k = 1 .. len(work)`` from the time-slicing mechanism.

    ``work`` is the whole-GPU time that runs in the function's slices, ``host`` the time on
    the host CPU (0 unless the problem uses the profile's GPU/host shares).
    """

    work: np.ndarray
    host: np.ndarray
    total_memory_gb: int
    memory_gb: int
    time_slice_s: float

    def sample(self, sizes: np.ndarray, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
        """One latency (seconds) per invocation of batch size ``sizes[i]``."""
        work = self.work[sizes - 1] * noise
        host = self.host[sizes - 1] * noise
        window = self.memory_gb * self.time_slice_s
        period = self.total_memory_gb * self.time_slice_s
        idle = period - window
        if idle <= 0:
            return work + host
        phase = rng.uniform(0.0, period, len(sizes))
        active = phase < window
        # Starting inside the window: run at once from offset `phase`; starting in the idle
        # part: wait for the next window and run from its start.
        wait = np.where(active, 0.0, period - phase)
        offset = np.where(active, phase, 0.0)
        # Idle gaps crossed before the work is done; the tolerance matches Eq. 4's rounding so
        # the maximum never exceeds it through floating-point noise.
        gaps = np.maximum(np.ceil((work - window + offset) / window - TOL), 0.0)
        return wait + work + gaps * idle + host


LatencyModel = CpuLatency | GpuTimeSlicing


def latency_model(problem: Problem, group: Group, *, concentration: float = 4.0) -> LatencyModel:
    """The latency model of ``group``'s function for every batch size ``1 .. group.batch``."""
    sizes = np.arange(1, group.batch + 1)
    if group.function == "cpu":
        configs = function_configs(
            problem, np.zeros(len(sizes), bool), np.full(len(sizes), group.vcpu), sizes
        )
        unprofiled = [int(k) for k in sizes if k not in problem.profile.cpu.batch_sizes]
        if unprofiled:
            raise InputError(
                f"group {list(group.apps)}: CPU batch sizes {unprofiled} are not in profile "
                f"{problem.profile.name!r} (it covers {list(problem.profile.cpu.batch_sizes)})"
            )
        return CpuLatency(configs.latency_avg, configs.latency_max, concentration)
    gpu = problem.profile.gpu
    memory = group.gpu_memory_gb
    if not 1 <= memory <= gpu.total_memory_gb:
        raise InputError(
            f"group {list(group.apps)}: GPU memory {memory} GB must be 1..{gpu.total_memory_gb}"
        )
    vcpu = memory * problem.pricing.sizing.gpu_vcpu_per_gb
    work, host = gpu_work(gpu, sizes, np.full(len(sizes), vcpu), shares=problem.gpu_shares)
    return GpuTimeSlicing(
        work=np.asarray(work, dtype=float),
        host=np.broadcast_to(np.asarray(host, dtype=float), work.shape).copy(),
        total_memory_gb=gpu.total_memory_gb,
        memory_gb=memory,
        time_slice_s=gpu.time_slice_s,
    )
