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
    size, binary-search the largest feasible batch. Return the cheapest candidate."""
    cost = evaluator.configs.cost_per_request
    candidates: list[int] = []

    def feasible(index: np.ndarray, position: int) -> bool:
        return bool(evaluator.feasible(group, index[position : position + 1])[0])

    if "cpu" in functions:
        for index in evaluator.cpu_by_batch.values():  # each sorted by vCPU
            low, high = 0, len(index)
            while low < high:  # smallest feasible vCPU: feasibility is monotone in c
                middle = (low + high) // 2
                if feasible(index, middle):
                    high = middle
                else:
                    low = middle + 1
            if low == len(index):
                continue
            smallest = low
            high = len(index) - 1
            while low < high:  # stationary point: first c where cost stops falling
                middle = (low + high) // 2
                if cost[index[middle + 1]] < cost[index[middle]]:
                    low = middle + 1
                else:
                    high = middle
            candidates += [index[smallest], index[low], index[-1]]
    if "gpu" in functions:
        for index in evaluator.gpu_by_memory.values():  # each sorted by batch
            if not feasible(index, 0):
                continue
            low, high = 0, len(index) - 1
            while low < high:  # largest feasible batch: feasibility is monotone in b
                middle = (low + high + 1) // 2
                if feasible(index, middle):
                    low = middle
                else:
                    high = middle - 1
            candidates.append(index[low])
    if not candidates:
        return None
    return int(min(candidates, key=lambda k: (cost[k], k)))


PROVISIONERS: dict[str, Provisioner] = {"fast": provision_fast, "exact": provision_exact}


def get_provisioner(name: str) -> Provisioner:
    """The provisioner called ``name`` (``"fast"`` or ``"exact"``)."""
    try:
        return PROVISIONERS[name]
    except KeyError:
        raise InputError(
            f"unknown provisioning {name!r}: choose one of {', '.join(PROVISIONERS)}"
        ) from None
