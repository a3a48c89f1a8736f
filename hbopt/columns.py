"""Candidate groups ("columns") and their cheapest configurations, vectorised over groups.

With greedy timeouts, Eq. 5 is shift-equivariant (see :func:`hbopt.evaluator.latency_cap`):
everything a configuration needs to know about a group is three numbers, its smallest SLO,
``E`` (Eq. 5 applied to the SLOs) and its total rate. So the cheapest configuration of
millions of groups is a few ``searchsorted`` calls, and all ``2^n`` subsets of the apps are
enumerated with one Eq. 5 step each (a subset in SLO order extends its subset without the
largest-SLO app).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hbopt.evaluator import Evaluator, GroupSpec, equivalent_timeout_step, latency_cap

__all__ = ["CheapestConfig", "SubsetColumns", "enumerate_subsets"]

_CHUNK = 1 << 18


class CheapestConfig:
    """Cheapest feasible configuration of groups given ``(min_slo, E, total_rate)`` arrays.

    Per batch size, configurations are sorted by their latency bound with a running minimum
    of cost, so "cheapest with latency <= cap" is one binary search. Gives the same minimum
    cost as :func:`hbopt.provision.provision_exact` (checked by the tests).
    """

    def __init__(self, evaluator: Evaluator):
        configs, bound = evaluator.configs, evaluator.latency_bound
        self.tables = []
        for batch in np.unique(configs.batch):
            index = np.flatnonzero(configs.batch == batch)
            index = index[np.argsort(bound[index], kind="stable")]
            cost = configs.cost_per_request[index]
            running = np.minimum.accumulate(cost)
            previous = np.concatenate([[np.inf], running[:-1]])
            where = np.maximum.accumulate(np.where(cost < previous, np.arange(len(cost)), 0))
            self.tables.append((int(batch), bound[index], running, index[where]))

    def __call__(
        self, min_slo: np.ndarray, slo_equivalent: np.ndarray, total_rate: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost per request (Eq. 6; inf: infeasible) and config index (-1) per group."""
        best = np.full(np.shape(min_slo), np.inf)
        choice = np.full(np.shape(min_slo), -1)
        for batch, bound, running, config in self.tables:
            cap = latency_cap(batch, min_slo, slo_equivalent, total_rate)
            position = np.searchsorted(bound, cap, side="right") - 1
            safe = np.maximum(position, 0)
            cost = np.where(position >= 0, running[safe], np.inf)
            better = cost < best
            best = np.where(better, cost, best)
            choice = np.where(better, config[safe], choice)
        return best, choice


@dataclass(frozen=True)
class SubsetColumns:
    """Every non-empty subset of the apps as a bitmask over ``order`` (apps in SLO order).

    ``cost[mask]`` is the subset's Eq. 7 contribution ``eta * C`` on its cheapest
    configuration ``config[mask]`` (inf and -1 when no configuration serves it).
    """

    order: np.ndarray
    rate: np.ndarray
    cost: np.ndarray
    config: np.ndarray

    @property
    def n_apps(self) -> int:
        return len(self.order)

    def members(self, mask: int) -> list[int]:
        """App indices (into ``problem.apps``) of subset ``mask``."""
        return [int(self.order[j]) for j in range(self.n_apps) if mask >> j & 1]

    def group(self, evaluator: Evaluator, mask: int) -> GroupSpec:
        """The subset as a :class:`GroupSpec`."""
        return evaluator.group(self.members(mask))

    def bits(self, masks: np.ndarray) -> np.ndarray:
        """0/1 matrix: one row per mask, one column per app position in ``order``."""
        return (np.asarray(masks)[:, None] >> np.arange(self.n_apps)) & 1

    def is_partition(self, masks: list[int]) -> bool:
        """True when ``masks`` cover every app exactly once."""
        return bool(len(masks)) and bool(np.all(self.bits(np.asarray(masks)).sum(axis=0) == 1))

    def contiguous(self, low: int, high: int) -> int:
        """Mask of the apps at SLO positions ``low .. high-1``."""
        return ((1 << high) - 1) ^ ((1 << low) - 1)


def enumerate_subsets(evaluator: Evaluator) -> SubsetColumns:
    """Cost and cheapest configuration of every subset of the problem's apps."""
    n = len(evaluator.problem.apps)
    order = np.array(sorted(range(n), key=lambda a: (evaluator.slo[a], a)))
    slo, rate = evaluator.slo[order], evaluator.rate[order]
    size = 1 << n
    equivalent = np.zeros(size)
    total = np.zeros(size)
    min_slo = np.zeros(size)
    for j in range(n):
        low = 1 << j
        equivalent[low], total[low], min_slo[low] = slo[j], rate[j], slo[j]
        if j:
            parents = slice(1, low)
            children = slice(low + 1, 2 * low)
            equivalent[children], _ = equivalent_timeout_step(
                equivalent[parents], total[parents], slo[j], rate[j]
            )
            total[children] = total[parents] + rate[j]
            min_slo[children] = min_slo[parents]
    cost = np.full(size, np.inf)
    config = np.full(size, -1)
    cheapest = CheapestConfig(evaluator)
    for start in range(1, size, _CHUNK):
        block = slice(start, min(start + _CHUNK, size))
        per_request, config[block] = cheapest(min_slo[block], equivalent[block], total[block])
        cost[block] = total[block] / evaluator.total_rate * per_request
    return SubsetColumns(order=order, rate=total, cost=cost, config=config)
