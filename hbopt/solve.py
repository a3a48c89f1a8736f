"""The one entry point: ``solve(problem, method) -> Plan``."""

from __future__ import annotations

import inspect
import math
import time
from typing import Any

from hbopt.errors import InputError
from hbopt.methods import METHODS
from hbopt.plan import Plan, Status
from hbopt.problem import Problem

__all__ = ["solve"]


def solve(
    problem: Problem,
    method: str = "harmony",
    *,
    time_limit: float | None = None,
    seed: int = 0,
    **options: Any,
) -> Plan:
    """Plan ``problem`` with the method called ``method`` (see ``hbopt.METHODS``).

    The returned plan is re-scored by the evaluator: its status is ``infeasible`` when a
    constraint is violated, and a cost that disagrees with the evaluator is a bug that raises.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}: choose one of {', '.join(sorted(METHODS))}")
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise InputError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    run = METHODS[method]
    accepted = [
        name
        for name, p in inspect.signature(run).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("time_limit", "seed")
    ]
    unknown = [name for name in options if name not in accepted]
    if unknown:
        raise InputError(
            f"method {method!r} does not take option {unknown[0]!r}; it takes: "
            + (", ".join(accepted) or "no options")
        )
    start = time.perf_counter()
    plan = run(problem, time_limit=time_limit, seed=seed, **options)
    elapsed = time.perf_counter() - start
    score = plan.score()
    if not math.isclose(score.cost_per_request, plan.cost_per_request, rel_tol=1e-9):
        raise RuntimeError(
            f"bug: method {method!r} reports cost {plan.cost_per_request!r} but the evaluator "
            f"scores its plan at {score.cost_per_request!r}"
        )
    status = plan.status if score.feasible else Status.INFEASIBLE
    return plan.with_(solve_time_s=elapsed, status=status)
