"""Baselines: ``single`` (every app alone), ``batch`` (BATCH, SC'20) and ``mbs`` (MBS+)."""

from __future__ import annotations

import math

from hbopt.errors import InfeasibleError
from hbopt.evaluator import Evaluator, GroupSpec
from hbopt.methods.registry import register
from hbopt.plan import Plan
from hbopt.problem import Problem
from hbopt.provision import get_provisioner, provision_exact

__all__ = ["batch", "equal_rate_groups", "mbs", "single"]


def _alone(evaluator: Evaluator, functions: tuple[str, ...], method: str) -> list:
    groups = []
    for i, app in enumerate(evaluator.problem.apps):
        group = evaluator.group([i])
        config = provision_exact(evaluator, group, functions)
        if config is None:
            kinds = " or ".join(f.upper() for f in functions)
            raise InfeasibleError(
                f"{method}: no {kinds} function meets app {app.name!r}'s SLO of {app.slo:g} s"
            )
        groups.append((group, config))
    return groups


@register("single")
def single(problem: Problem, *, time_limit: float | None = None, seed: int = 0) -> Plan:
    """Every app alone on its cheapest CPU or GPU configuration (exact provisioning)."""
    evaluator = problem.evaluator
    return evaluator.make_plan(_alone(evaluator, ("cpu", "gpu"), "single"), method="single")


@register("batch")
def batch(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    deterministic: bool = False,
) -> Plan:
    """BATCH: every app alone on its cheapest CPU configuration.

    With ``deterministic=True`` the SLO is checked with the average latency, as BATCH does;
    the plan then looks cheaper but its status is ``infeasible`` whenever the max latency
    breaks an SLO.
    """
    planner = problem.replace(deterministic_latency=True) if deterministic else problem
    plan = planner.evaluator.make_plan(
        _alone(planner.evaluator, ("cpu",), "batch"),
        method="batch",
        extras={"deterministic": deterministic},
    )
    return plan.with_(problem=problem)


def equal_rate_groups(evaluator: Evaluator, k: int) -> list[GroupSpec]:
    """Cut the SLO-sorted request stream into ``k`` groups of equal total rate; an app on a
    boundary is split, each part carrying its share of the rate."""
    order = sorted(range(len(evaluator.problem.apps)), key=lambda a: (evaluator.slo[a], a))
    bounds = [0.0]
    for a in order:
        bounds.append(bounds[-1] + float(evaluator.rate[a]))
    total = bounds[-1]
    groups = []
    for g in range(k):
        low, high = total * g / k, total if g == k - 1 else total * (g + 1) / k
        apps, rates = [], []
        for position, a in enumerate(order):
            share = min(high, bounds[position + 1]) - max(low, bounds[position])
            if share > 1e-12 * total:
                apps.append(a)
                rates.append(share)
        groups.append(evaluator.group(apps, rates))
    return groups


@register("mbs")
def mbs(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    provisioning: str = "exact",
) -> Plan:
    """MBS+: for k = 1..n split the stream into k equal-rate groups, keep the best k.

    An app on a group boundary is split between two functions (``extras["split_apps"]``);
    SPEC section 5 keeps every app in one group, so a split plan can undercut the optimum
    over partitions that ``exact`` computes.
    """
    evaluator = problem.evaluator
    provision = get_provisioner(provisioning)
    best, best_cost, best_k = None, math.inf, 0
    for k in range(1, len(problem.apps) + 1):
        groups = equal_rate_groups(evaluator, k)
        configs = [provision(evaluator, g, ("cpu", "gpu")) for g in groups]
        if any(c is None for c in configs):
            continue
        cost = sum(evaluator.group_cost(g, c) for g, c in zip(groups, configs, strict=True))
        if cost < best_cost:
            best, best_cost, best_k = list(zip(groups, configs, strict=True)), cost, k
    if best is None:
        raise InfeasibleError("mbs: no number of equal-rate groups can be served")
    names = [app.name for app in problem.apps]
    split = sorted(
        {
            names[a]
            for g, _ in best
            for a, r in zip(g.apps, g.rates, strict=True)
            if r < evaluator.rate[a] * (1 - 1e-12)
        }
    )
    return evaluator.make_plan(best, method="mbs", extras={"k": best_k, "split_apps": split})
