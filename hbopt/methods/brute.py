"""Brute force: every set partition of the apps, each group priced by the exact grid scan.

Deliberately independent of :mod:`hbopt.columns` and the MILP, so the tests can use it as
the ground truth for ``exact``. Bell(10) = 115,975 partitions: keep ``n <= 10``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from hbopt.errors import InputError
from hbopt.methods.registry import register
from hbopt.plan import Plan, Status
from hbopt.problem import Problem
from hbopt.provision import provision_exact

__all__ = ["brute", "set_partitions"]


def set_partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every partition of ``items`` into non-empty blocks, each exactly once."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in set_partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]


@register("brute")
def brute(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    max_apps: int = 10,
    contiguous_only: bool = False,
) -> Plan:
    """The optimal plan by enumerating every set partition (``n <= max_apps``).

    With ``contiguous_only`` only partitions into groups contiguous in SLO order count.
    """
    n = len(problem.apps)
    if n > max_apps:
        raise InputError(
            f"brute enumerates Bell(n) partitions and takes at most "
            f"max_apps={max_apps} apps; this problem has {n}"
        )
    evaluator = problem.evaluator
    order = sorted(range(n), key=lambda a: (evaluator.slo[a], a))
    position = {app: p for p, app in enumerate(order)}
    priced: dict[frozenset[int], tuple[float, int | None]] = {}

    def price(block: list[int]) -> tuple[float, int | None]:
        key = frozenset(block)
        if key not in priced:
            group = evaluator.group(block)
            config = provision_exact(evaluator, group)
            cost = math.inf if config is None else evaluator.group_cost(group, config)
            priced[key] = (cost, config)
        return priced[key]

    def contiguous(block: list[int]) -> bool:
        places = sorted(position[a] for a in block)
        return places[-1] - places[0] == len(places) - 1

    best, best_cost = None, math.inf
    for partition in set_partitions(list(range(n))):
        if contiguous_only and not all(contiguous(block) for block in partition):
            continue
        cost = sum(price(block)[0] for block in partition)
        if cost < best_cost:
            best, best_cost = partition, cost
    groups = [(evaluator.group(block), price(block)[1]) for block in best]
    return evaluator.make_plan(groups, method="brute", status=Status.OPTIMAL, lower_bound=best_cost)
