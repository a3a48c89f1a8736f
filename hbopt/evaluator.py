"""The model: latency (Eqs. 1-4), batching (Eqs. 5, 9, 10), cost (Eqs. 6, 7), plan scoring.

This module is the single source of truth for every formula. The configuration grid of a
problem (every function type, resource size and batch size) is built once as numpy arrays
by :func:`function_configs`; the same function evaluates any single configuration when a plan
is re-scored, so a plan read from a file and a plan fresh from a method are judged alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import poisson

from hbopt.errors import InfeasibleError
from hbopt.pricing import FunctionBilling
from hbopt.profile import GpuProfile

if TYPE_CHECKING:
    from hbopt.plan import Plan
    from hbopt.problem import Problem

__all__ = [
    "TOL",
    "Configs",
    "Evaluator",
    "GroupSpec",
    "Score",
    "batch_feasible",
    "cpu_latency",
    "equivalent_timeout",
    "equivalent_timeout_step",
    "function_configs",
    "gpu_latency",
    "gpu_work",
    "invocation_cost",
    "latency_cap",
]

TOL = 1e-9
"""Absolute tolerance (seconds, requests) for every feasibility comparison."""


# ----------------------------------------------------------------------------- latency
def cpu_latency(coefficients: np.ndarray, vcpu: np.ndarray) -> np.ndarray:
    """Eq. 1: ``alpha * exp(-c / beta) + gamma`` with ``coefficients[..., :] = (a, b, g)``."""
    alpha, beta, gamma = coefficients[..., 0], coefficients[..., 1], coefficients[..., 2]
    return alpha * np.exp(-vcpu / beta) + gamma


def gpu_work(
    gpu: GpuProfile, batch: np.ndarray, vcpu: np.ndarray, *, shares: bool = False
) -> tuple[np.ndarray, np.ndarray | float]:
    """Eq. 2 work of a batch: ``(sliced, host)`` seconds.

    ``sliced`` is the whole-GPU time ``L0 = xi1 * b + xi2`` that runs in the function's time
    slices; ``host`` (0 unless ``shares``) is ``host_share * L0 / min(vcpu, 1)`` run on the
    host CPU, in which case only ``gpu_share * L0`` is sliced.
    """
    whole = gpu.xi1 * np.asarray(batch) + gpu.xi2
    if not shares:
        return whole, 0.0
    return gpu.gpu_share * whole, gpu.host_share * whole / np.minimum(vcpu, 1.0)


def gpu_latency(
    gpu: GpuProfile,
    batch: np.ndarray,
    memory_gb: np.ndarray,
    vcpu: np.ndarray,
    *,
    margin: float = 1.0,
    shares: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Average and maximum latency of a GPU function (Eqs. 2-4).

    ``L0 = xi1 * b + xi2`` on the whole GPU; with ``m`` of ``M`` GB the function gets ``m``
    time slices of ``tau`` out of every ``M``: average ``(M / m) L0`` (Eq. 3), maximum
    ``ceil(L0 / (m tau)) (M - m) tau + L0`` (Eq. 4), times ``margin`` when ``m < M``. With
    ``shares`` only ``gpu_share * L0`` is time-sliced; ``host_share * L0`` runs on the
    host CPU and scales with ``1 / min(vcpu, 1)``.
    """
    total, tau = gpu.total_memory_gb, gpu.time_slice_s
    sliced, host = gpu_work(gpu, batch, vcpu, shares=shares)
    average = total / memory_gb * sliced + host
    rounds = np.ceil(sliced / (memory_gb * tau) - TOL)
    worst = rounds * (total - memory_gb) * tau + sliced
    worst = np.where(memory_gb < total, worst * margin, worst) + host
    return average, worst


# ----------------------------------------------------------------------------- batching
def equivalent_timeout_step(
    timeout: np.ndarray, rate: np.ndarray | float, next_timeout: np.ndarray, next_rate: float
) -> tuple[np.ndarray, np.ndarray | float]:
    """One step of Eq. 5: merge an app with timeout ``next_timeout >= timeout`` into a group
    with equivalent timeout ``timeout`` and total rate ``rate``."""
    gain = -np.expm1(-rate * (next_timeout - timeout)) / rate
    return timeout + next_rate / (rate + next_rate) * gain, rate + next_rate


def equivalent_timeout(
    timeouts: np.ndarray | Sequence[float], rates: np.ndarray | Sequence[float]
) -> tuple[np.ndarray | float, float]:
    """Eq. 5 applied iteratively: the equivalent timeout ``T`` and total rate of a group.

    ``timeouts`` has one row per app (any trailing shape, e.g. one column per configuration);
    apps are taken in ascending timeout order along axis 0.
    """
    timeouts = np.asarray(timeouts, dtype=float)
    rates = np.asarray(rates, dtype=float)
    order = np.argsort(timeouts, axis=0, kind="stable")
    ordered = np.take_along_axis(timeouts, order, axis=0)
    ordered_rates = rates[order]
    equivalent, total = ordered[0], ordered_rates[0]
    for j in range(1, len(rates)):
        equivalent, total = equivalent_timeout_step(equivalent, total, ordered[j], ordered_rates[j])
    if np.ndim(equivalent) == 0:
        return float(equivalent), float(rates.sum())
    return equivalent, float(rates.sum())


def batch_feasible(batch: np.ndarray, equivalent: np.ndarray, total_rate: float) -> np.ndarray:
    """Eq. 9: ``b <= floor(r^X T^X) + 1``; batch 1 is always feasible."""
    return (batch == 1) | (batch <= np.floor(total_rate * equivalent + TOL) + 1)


def latency_cap(
    batch: np.ndarray, min_slo: np.ndarray, slo_equivalent: np.ndarray, total_rate: np.ndarray
) -> np.ndarray:
    """The largest max latency with which a batch-``batch`` function can serve a group.

    With greedy timeouts ``t_w = s_w - L`` (Eq. 10), Eq. 5 is shift-equivariant: the group's
    equivalent timeout is ``T^X = E - L``, where ``E`` is Eq. 5 applied to the SLOs
    themselves (``slo_equivalent``). So the SLOs (``L <= min_slo``) and Eq. 9
    (``b - 1 <= r (E - L)``) hold exactly when ``L`` is at most this cap.
    """
    cap = np.asarray(min_slo) + TOL
    return np.where(
        batch == 1, cap, np.minimum(cap, slo_equivalent - (batch - 1 - TOL) / total_rate)
    )


# ----------------------------------------------------------------------------- cost
def invocation_cost(
    billing: FunctionBilling,
    duration: np.ndarray,
    vcpu: np.ndarray,
    memory_gb: np.ndarray,
    gpu_memory_gb: np.ndarray,
) -> np.ndarray:
    """Cost of one invocation lasting ``duration`` seconds (billed duration rounded up)."""
    if billing.granularity_s > 0:
        duration = np.ceil(duration / billing.granularity_s - TOL) * billing.granularity_s
    rate = (
        vcpu * billing.vcpu_per_s
        + memory_gb * billing.memory_gb_per_s
        + gpu_memory_gb * billing.gpu_memory_gb_per_s
    )
    return billing.per_invocation + duration * rate


def _round_up(value: np.ndarray | float, step: float) -> np.ndarray:
    return np.ceil(np.asarray(value) / step - TOL) * step


@dataclass(frozen=True)
class Configs:
    """A set of function configurations as parallel arrays (one entry per configuration)."""

    is_gpu: np.ndarray
    vcpu: np.ndarray
    memory_gb: np.ndarray
    gpu_memory_gb: np.ndarray
    batch: np.ndarray
    latency_avg: np.ndarray
    latency_max: np.ndarray
    cost_per_request: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.batch)

    def take(self, index: np.ndarray) -> Configs:
        """The configurations at ``index``."""
        return Configs(**{name: getattr(self, name)[index] for name in self.__annotations__})

    def describe(self, k: int) -> dict[str, Any]:
        """Configuration ``k`` as plain Python values."""
        gpu = bool(self.is_gpu[k])
        return {
            "function": "gpu" if gpu else "cpu",
            "vcpu": round(float(self.vcpu[k]), 6),
            "memory_gb": float(self.memory_gb[k]),
            "gpu_memory_gb": int(self.gpu_memory_gb[k]),
            "batch": int(self.batch[k]),
            "latency_avg": float(self.latency_avg[k]),
            "latency_max": float(self.latency_max[k]),
            "cost_per_request": float(self.cost_per_request[k]),
        }


def function_configs(
    problem: Problem,
    is_gpu: np.ndarray,
    size: np.ndarray,
    batch: np.ndarray,
) -> Configs:
    """Evaluate configurations: ``size`` is vCPU cores (CPU) or GPU memory in GB (GPU).

    Returns latencies (Eqs. 1-4), billed resources (the pricing's sizing rule), Eq. 6 cost
    per request, and ``valid``: the memory rules hold (Eq. 8; memory per vCPU) and the batch
    size is one the profile covers.
    """
    profile, pricing = problem.profile, problem.pricing
    sizing = pricing.sizing
    is_gpu = np.asarray(is_gpu, dtype=bool)
    size = np.asarray(size, dtype=float)
    batch = np.asarray(batch, dtype=int)
    cpu, gpu = ~is_gpu, is_gpu

    vcpu = np.where(gpu, size * sizing.gpu_vcpu_per_gb, size)
    gpu_memory = np.where(gpu, size, 0.0)
    step_gb = sizing.memory_step_mb / 1024.0

    # CPU memory demand (SPEC section 2) and the memory-per-vCPU rule.
    cpu_demand_gb = _round_up(
        (profile.cpu.memory_per_batch_mb * batch + profile.cpu.memory_base_mb) / 1024.0, step_gb
    )
    host_gb = float(_round_up(profile.gpu.host_memory_mb / 1024.0, step_gb))
    demand_gb = np.where(gpu, host_gb, cpu_demand_gb)
    valid = np.ones(len(batch), dtype=bool)
    memory_gb = demand_gb
    if sizing.memory_per_vcpu_gb is not None:
        low, high = sizing.memory_per_vcpu_gb
        valid &= demand_gb <= high * vcpu + TOL
        memory_gb = np.where(cpu, _round_up(np.maximum(demand_gb, low * vcpu), step_gb), demand_gb)

    # CPU latency: coefficients row of each batch size (invalid where not profiled).
    batch_sizes = np.asarray(profile.cpu.batch_sizes)
    row = np.searchsorted(batch_sizes, batch)
    row = np.clip(row, 0, len(batch_sizes) - 1)
    valid &= gpu | (batch_sizes[row] == batch)
    cpu_avg = cpu_latency(np.asarray(profile.cpu.latency_avg)[row], vcpu)
    cpu_max = cpu_latency(np.asarray(profile.cpu.latency_max)[row], vcpu)

    # GPU latency and memory demand (Eq. 8).
    safe_memory = np.where(gpu, gpu_memory, float(profile.gpu.total_memory_gb))
    gpu_avg, gpu_max = gpu_latency(
        profile.gpu,
        batch,
        safe_memory,
        vcpu,
        margin=problem.margin,
        shares=problem.gpu_shares,
    )
    demand = np.array([profile.gpu.memory_demand_gb(int(b)) for b in batch.ravel()])
    valid &= cpu | ((demand.reshape(batch.shape) <= gpu_memory) & (gpu_memory >= 1))
    valid &= cpu | (gpu_memory <= profile.gpu.total_memory_gb)
    valid &= (batch >= 1) & (size > 0)

    latency_avg = np.where(gpu, gpu_avg, cpu_avg)
    latency_max = np.where(gpu, gpu_max, cpu_max)
    per_invocation = np.where(
        gpu,
        invocation_cost(pricing.gpu, latency_avg, vcpu, memory_gb, gpu_memory),
        invocation_cost(pricing.cpu, latency_avg, vcpu, memory_gb, 0.0),
    )
    return Configs(
        is_gpu=is_gpu,
        vcpu=vcpu,
        memory_gb=memory_gb,
        gpu_memory_gb=gpu_memory.astype(int),
        batch=batch,
        latency_avg=latency_avg,
        latency_max=latency_max,
        cost_per_request=per_invocation / batch,
        valid=valid,
    )


# ----------------------------------------------------------------------------- groups
@dataclass(frozen=True)
class GroupSpec:
    """A group of apps sharing one function: app indices in SLO order and the rate each
    contributes (an app's full rate, unless a method splits it across groups)."""

    apps: tuple[int, ...]
    rates: tuple[float, ...]

    @property
    def total_rate(self) -> float:
        return float(sum(self.rates))


@dataclass(frozen=True)
class Score:
    """The evaluator's verdict on a plan: Eq. 7 cost and every violated constraint."""

    cost_per_request: float
    cost_per_hour: float
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


class Evaluator:
    """Owns the model for one problem: the configuration grid, group feasibility and cost.

    Every method asks it; nothing else evaluates a formula.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.slo = np.array([a.slo for a in problem.apps])
        self.rate = np.array([a.rate for a in problem.apps])
        self.total_rate = float(self.rate.sum())
        self.configs = self._grid()
        bound = self.configs.latency_avg if problem.deterministic_latency else None
        self.latency_bound = bound if bound is not None else self.configs.latency_max
        self.cost_order = np.argsort(self.configs.cost_per_request, kind="stable")
        self.cpu_by_batch = self._index(~self.configs.is_gpu, self.configs.batch, "vcpu")
        self.gpu_by_memory = self._index(self.configs.is_gpu, self.configs.gpu_memory_gb, "batch")

    def _grid(self) -> Configs:
        problem, grids = self.problem, self.problem.grids
        cpu_batches = grids.cpu_batches or self.problem.profile.cpu.batch_sizes
        memories = grids.gpu_memory_gb or tuple(range(1, problem.profile.gpu.total_memory_gb + 1))
        cpu_size, cpu_batch = np.meshgrid(np.asarray(grids.vcpu), cpu_batches, indexing="ij")
        gpu_size, gpu_batch = np.meshgrid(memories, grids.gpu_batches, indexing="ij")
        is_gpu = np.concatenate([np.zeros(cpu_size.size, bool), np.ones(gpu_size.size, bool)])
        size = np.concatenate([cpu_size.ravel(), gpu_size.ravel().astype(float)])
        batch = np.concatenate([cpu_batch.ravel(), gpu_batch.ravel()])
        configs = function_configs(problem, is_gpu, size, batch)
        return configs.take(np.flatnonzero(configs.valid))

    def _index(self, mask: np.ndarray, key: np.ndarray, order_by: str) -> dict[int, np.ndarray]:
        """Config indices per ``key`` value, sorted by the ``order_by`` attribute."""
        out = {}
        for value in np.unique(key[mask]):
            index = np.flatnonzero(mask & (key == value))
            out[int(value)] = index[np.argsort(getattr(self.configs, order_by)[index])]
        return out

    # -- groups --------------------------------------------------------------------------
    def group(self, apps: Sequence[int], rates: Sequence[float] | None = None) -> GroupSpec:
        """A :class:`GroupSpec` of ``apps`` (full rates unless given), sorted by SLO."""
        rates = self.rate[list(apps)] if rates is None else rates
        pairs = sorted(zip(apps, rates, strict=True), key=lambda p: (self.slo[p[0]], p[0]))
        return GroupSpec(tuple(int(a) for a, _ in pairs), tuple(float(r) for _, r in pairs))

    def feasible(self, group: GroupSpec, configs: np.ndarray | None = None) -> np.ndarray:
        """Mask of configurations (all, or those at ``configs``) on which ``group`` meets
        every SLO with greedy timeouts (Eq. 10) and its batch size is reachable (Eq. 9)."""
        bound = self.latency_bound if configs is None else self.latency_bound[configs]
        batch = self.configs.batch if configs is None else self.configs.batch[configs]
        slos = self.slo[list(group.apps)]
        slo_equivalent, total = equivalent_timeout(slos, group.rates)
        return bound <= latency_cap(batch, slos.min(), slo_equivalent, total)

    def weight(self, group: GroupSpec) -> float:
        """eta^X of Eq. 7: the group's share of all requests."""
        return group.total_rate / self.total_rate

    def group_cost(self, group: GroupSpec, config: int) -> float:
        """The group's Eq. 7 contribution ``eta^X * C^X`` on configuration ``config``."""
        return self.weight(group) * float(self.configs.cost_per_request[config])

    def timeouts(self, group: GroupSpec, config: int) -> dict[int, float]:
        """Greedy timeouts (Eq. 10) per app index; 0 for batch size 1."""
        if self.configs.batch[config] == 1:
            return {a: 0.0 for a in group.apps}
        bound = float(self.latency_bound[config])
        return {a: max(float(self.slo[a]) - bound, 0.0) for a in group.apps}

    def expected_batch(self, group: GroupSpec, config: int) -> tuple[float, float]:
        """Expected batch size and expected cost per request when timeouts flush batches
        before they are full (an estimate beside Eq. 6, which assumes full batches).

        A batch opens with one request and collects Poisson arrivals at the group's rate for
        the equivalent timeout ``T^X`` (Eq. 5) or until it holds ``b``: its size is
        ``K = min(b, 1 + Poisson(r^X T^X))``. Each invocation of ``k`` requests lasts
        ``L_avg(k)`` on the same function and is billed as such, so the cost per request is
        ``E[cost of an invocation] / E[K]`` (renewal-reward).
        """
        batch = int(self.configs.batch[config])
        if batch == 1:
            return 1.0, float(self.configs.cost_per_request[config])
        slo_equivalent, total = equivalent_timeout(self.slo[list(group.apps)], group.rates)
        window = max(slo_equivalent - float(self.latency_bound[config]), 0.0)
        sizes = np.arange(1, batch + 1)
        probability = poisson.pmf(sizes[:-1] - 1, total * window)
        probability = np.append(probability, max(1.0 - probability.sum(), 0.0))
        is_gpu = bool(self.configs.is_gpu[config])
        size = self.configs.gpu_memory_gb[config] if is_gpu else self.configs.vcpu[config]
        partial = function_configs(
            self.problem, np.full(batch, is_gpu), np.full(batch, float(size)), sizes
        )
        mean_size = float(probability @ sizes)
        per_invocation = float(probability @ (partial.cost_per_request * sizes))
        return mean_size, per_invocation / mean_size

    def check_apps_meetable(self) -> None:
        """Raise :class:`InfeasibleError` naming the first app no configuration can serve."""
        fastest = float(self.latency_bound.min()) if len(self.configs) else math.inf
        for i, app in enumerate(self.problem.apps):
            if not self.feasible(self.group([i])).any():
                raise InfeasibleError(
                    f"app {app.name!r}: SLO {app.slo:g} s cannot be met; the lowest latency any "
                    f"configuration reaches is {fastest:.4g} s"
                )

    # -- plans ---------------------------------------------------------------------------
    def make_plan(
        self,
        groups: Sequence[tuple[GroupSpec, int]],
        *,
        method: str,
        status: Any = "feasible",
        solve_time_s: float = 0.0,
        lower_bound: float | None = None,
        extras: dict[str, Any] | None = None,
    ) -> Plan:
        """Turn ``(group, configuration index)`` pairs into a :class:`~hbopt.plan.Plan`."""
        from hbopt.plan import Group, Plan

        names = [a.name for a in self.problem.apps]
        plan_groups = []
        expected_total = 0.0
        for spec, k in groups:
            info = self.configs.describe(k)
            timeouts = self.timeouts(spec, k)
            expected_batch, expected_cost = self.expected_batch(spec, k)
            expected_total += self.weight(spec) * expected_cost
            plan_groups.append(
                Group(
                    apps=tuple(names[a] for a in spec.apps),
                    app_rates={names[a]: r for a, r in zip(spec.apps, spec.rates, strict=True)},
                    function=info["function"],
                    vcpu=info["vcpu"],
                    memory_gb=info["memory_gb"],
                    gpu_memory_gb=info["gpu_memory_gb"],
                    batch=info["batch"],
                    timeouts={names[a]: t for a, t in timeouts.items()},
                    latency_avg=info["latency_avg"],
                    latency_max=info["latency_max"],
                    rate=spec.total_rate,
                    cost_per_request=info["cost_per_request"],
                    expected_batch=expected_batch,
                    expected_cost_per_request=expected_cost,
                )
            )
        cost = sum(self.group_cost(spec, k) for spec, k in groups)
        return Plan(
            problem=self.problem,
            method=method,
            status=status,
            groups=tuple(plan_groups),
            cost_per_request=cost,
            cost_per_hour=cost * self.total_rate * 3600.0,
            solve_time_s=solve_time_s,
            lower_bound=lower_bound,
            extras=dict(extras or {}),
            expected_cost_per_request=expected_total,
        )

    def score(self, plan: Plan) -> Score:
        """Re-derive a plan's cost from its groups and list every violated constraint:
        coverage of every app's rate, memory rules, SLOs with the plan's own timeouts
        (Eq. 10), batch reachability (Eq. 9)."""
        problem = self.problem
        violations: list[str] = []
        covered = dict.fromkeys((a.name for a in problem.apps), 0.0)
        cost = 0.0
        for number, group in enumerate(plan.groups):
            label = f"group {number} ({','.join(group.apps)})"
            unknown = [n for n in group.apps if n not in covered]
            if unknown:
                violations.append(f"{label}: unknown apps {unknown}")
                continue
            index = [problem.app_index(n) for n in group.apps]
            rates = np.array([group.app_rates[n] for n in group.apps])
            for name, r in zip(group.apps, rates, strict=True):
                covered[name] += r
            config = function_configs(
                problem,
                np.array([group.function == "gpu"]),
                np.array([group.gpu_memory_gb if group.function == "gpu" else group.vcpu]),
                np.array([group.batch]),
            )
            if not config.valid[0]:
                violations.append(
                    f"{label}: configuration violates the memory rules or the profiled batch sizes"
                )
            latency_max = float(config.latency_max[0])
            timeouts = np.array([group.timeouts[n] for n in group.apps])
            slos = self.slo[index]
            for name, t, s in zip(group.apps, timeouts, slos, strict=True):
                if t < -TOL or t + latency_max > s + TOL:
                    violations.append(
                        f"{label}: app {name!r} timeout {t:.4g} s + max latency "
                        f"{latency_max:.4g} s exceeds its SLO {s:g} s"
                    )
            if group.batch > 1:
                equivalent, total = equivalent_timeout(timeouts, rates)
                if not batch_feasible(np.array([group.batch]), np.array([equivalent]), total)[0]:
                    violations.append(
                        f"{label}: batch {group.batch} exceeds floor(r T) + 1 = "
                        f"{math.floor(total * equivalent + TOL) + 1} (Eq. 9)"
                    )
            cost += float(rates.sum()) / self.total_rate * float(config.cost_per_request[0])
        for app in problem.apps:
            if abs(covered[app.name] - app.rate) > 1e-9 * max(1.0, app.rate):
                violations.append(
                    f"app {app.name!r}: plan serves {covered[app.name]:g} req/s of its "
                    f"{app.rate:g} req/s"
                )
        return Score(cost, cost * self.total_rate * 3600.0, tuple(violations))
