"""funcProvision: the cheapest feasible function configuration for one group (SPEC section 6).

Two provisioners with one signature ``(evaluator, group, functions) -> config index | None``:

* :func:`provision_exact` scans the whole configuration grid at once (the oracle);
* :func:`provision_fast` is the paper's search: binary searches justified by Theorem 1
  (CPU cost in ``c`` has one stationary point) and Theorem 2 (GPU cost falls as ``b`` grows).
  It never returns an infeasible configuration and is never cheaper than the oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from hbopt.errors import InputError
from hbopt.evaluator import Evaluator, GroupSpec

__all__ = ["PROVISIONERS", "Provisioner", "get_provisioner", "provision_exact", "provision_fast"]

Provisioner = Callable[[Evaluator, GroupSpec, Collection[str]], "int | None"]

BOTH = ("cpu", "gpu")


def provision_exact(
    evaluator: Evaluator, group: GroupSpec, functions: Collection[str] = BOTH
) -> int | None:
    """Index of the cheapest feasible configuration for ``group`` (None: none feasible)."""
    configs = evaluator.configs
    mask = evaluator.feasible(group)
    if "cpu" not in functions:
        mask &= configs.is_gpu
    if "gpu" not in functions:
        mask &= ~configs.is_gpu
    if not mask.any():
        return None
    return int(np.argmin(np.where(mask, configs.cost_per_request, np.inf)))


def provision_fast(
    evaluator: Evaluator, group: GroupSpec, functions: Collection[str] = BOTH
) -> int | None:
    """The paper's funcProvision: per CPU batch size, binary-search the smallest feasible
    vCPU and the cost's stationary point and try ``{c0, c_min, c_max}``; per GPU memory
    size, binary-search the largest feasible batch. Return the cheapest candidate.

    The binary searches of all batch sizes (CPU) or memory sizes (GPU) run in lockstep, so
    each step is one vectorised feasibility check.
    """
    cost = evaluator.configs.cost_per_request
    candidates: list[np.ndarray] = []
    if "cpu" in functions:
        table, lengths = _ladder(evaluator.cpu_by_batch)  # rows sorted by vCPU
        rows = np.arange(len(lengths))
        low, high = np.zeros_like(lengths), lengths.copy()
        while (active := low < high).any():  # smallest feasible vCPU (monotone in c)
            middle = (low + high) // 2
            ok = evaluator.feasible(group, table[rows, np.minimum(middle, lengths - 1)])
            high = np.where(active & ok, middle, high)
            low = np.where(active & ~ok, middle + 1, low)
        served = low < lengths
        smallest = np.minimum(low, lengths - 1)
        row_cost = cost[table]
        high = lengths - 1
        while (active := low < high).any():  # stationary point: where cost stops falling
            middle = np.minimum((low + high) // 2, lengths - 2)
            falling = row_cost[rows, middle + 1] < row_cost[rows, middle]
            low = np.where(active & falling, middle + 1, low)
            high = np.where(active & ~falling, middle, high)
        stationary = np.minimum(low, lengths - 1)
        for position in (smallest, stationary, lengths - 1):
            candidates.append(table[rows, position][served])
    if "gpu" in functions:
        table, lengths = _ladder(evaluator.gpu_by_memory)  # rows sorted by batch
        rows = np.arange(len(lengths))
        served = evaluator.feasible(group, table[:, 0])
        low, high = np.zeros_like(lengths), np.where(served, lengths - 1, 0)
        while (active := low < high).any():  # largest feasible batch (monotone in b)
            middle = (low + high + 1) // 2
            ok = evaluator.feasible(group, table[rows, middle])
            low = np.where(active & ok, middle, low)
            high = np.where(active & ~ok, middle - 1, high)
        candidates.append(table[rows, low][served])
    found = np.concatenate(candidates) if candidates else np.array([], dtype=int)
    if not len(found):
        return None
    return int(found[np.lexsort((found, cost[found]))[0]])


def _ladder(rows: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged index lists as one matrix, each row padded with its last entry."""
    lengths = np.array([len(r) for r in rows.values()])
    table = np.empty((len(lengths), lengths.max()), dtype=int)
    for i, row in enumerate(rows.values()):
        table[i, : len(row)] = row
        table[i, len(row) :] = row[-1]
    return table, lengths


PROVISIONERS: dict[str, Provisioner] = {"fast": provision_fast, "exact": provision_exact}


def get_provisioner(name: str) -> Provisioner:
    """The provisioner called ``name`` (``"fast"`` or ``"exact"``)."""
    try:
        return PROVISIONERS[name]
    except KeyError:
        raise InputError(
            f"unknown provisioning {name!r}: choose one of {', '.join(PROVISIONERS)}"
        ) from None
