"""Exact optimum: a set-partitioning MILP (Pyomo, solved by HiGHS) over candidate groups.

Formulation (docs/exact.md): one binary ``x_S`` per candidate group ``S`` (a subset of the
apps, priced on its cheapest feasible configuration), ``sum_{S ni w} x_S = 1`` for every app
``w``, minimise ``sum_S eta_S C_S x_S`` (Eq. 7). Every subset is enumerated
(:mod:`hbopt.columns`), so the MILP's optimum is the optimum of SPEC section 5.

To keep the MILP small, the LP relaxation is solved first by column generation over the
enumerated subsets (HiGHS via highspy, pricing vectorised in numpy). With duals ``pi`` and
any feasible plan of cost ``U`` (the incumbent), a subset can appear in a plan of cost
``<= U`` only if its reduced cost ``rc_S = cost_S - sum_{w in S} pi_w`` is at most
``U - sum(pi) - (n - 1) min(0, min rc)`` (the other at most ``n - 1`` groups of that plan
have reduced cost at least ``min rc``). Only those subsets become MILP variables: no plan
better than the incumbent is cut off, so the MILP optimum is the true optimum.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hbopt.columns import SubsetColumns, enumerate_subsets
from hbopt.errors import InputError, SolverUnavailableError
from hbopt.methods.registry import register
from hbopt.plan import Plan, Status
from hbopt.problem import Problem

__all__ = ["ExactModel", "exact"]

_PRICE_BATCH = 2000  # columns added per column-generation round
_SLACK = 1e-9  # relative safety slack (objective scaled to incumbent = 1)


_banner_shown = False


def _require_highs() -> Any:
    """Import highspy, swallowing the banner HiGHS prints (from C++, on the process's first
    instance) so that ``hbopt plan --json -`` stays valid JSON."""
    global _banner_shown
    try:
        import highspy
    except ImportError:
        raise SolverUnavailableError(
            "the exact method needs the HiGHS solver: pip install highspy"
        ) from None
    if not _banner_shown:
        sys.stdout.flush()
        saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_shown = True
    return highspy


@dataclass
class ExactModel:
    """The set-partitioning MILP of a problem: build it, inspect it, solve it, export it.

    Attributes
    ----------
    candidate_groups : number of subsets some configuration can serve.
    columns : subsets kept as MILP variables after reduced-cost filtering.
    lp_bound : proven lower bound from the LP relaxation (Eq. 7 units).
    incumbent : cost of the best plan known before the MILP (its fallback).
    """

    problem: Problem
    subsets: SubsetColumns
    masks: np.ndarray
    incumbent_masks: list[int]
    incumbent: float
    lp_bound: float
    timings: dict[str, float] = field(default_factory=dict)
    _model: Any = None

    @classmethod
    def build(
        cls, problem: Problem, *, max_apps: int = 22, deadline: float | None = None
    ) -> ExactModel:
        """Enumerate candidate groups, bound by the LP, keep the columns that can matter."""
        n = len(problem.apps)
        if n > max_apps:
            raise InputError(
                f"exact enumerates 2^n candidate groups and takes at most max_apps={max_apps} "
                f"apps; this problem has {n}: use 'contiguous' or 'harmony', or raise max_apps"
            )
        highspy = _require_highs()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        subsets = enumerate_subsets(problem.evaluator)
        timings["enumerate_s"] = time.perf_counter() - start
        incumbent_masks, incumbent = _incumbent(subsets)
        start = time.perf_counter()
        master = _MasterLP(highspy, subsets, scale=incumbent)
        duals, min_reduced = master.solve(deadline)
        timings["lp_s"] = time.perf_counter() - start
        reduced = master.scaled - _subset_sums(duals)
        lagrangian = float(duals.sum() + n * min(0.0, min_reduced))
        start = time.perf_counter()
        restricted = master.integer_plan(np.flatnonzero(reduced <= 1e-9), deadline)
        if restricted is not None and subsets.is_partition(restricted):
            cost = float(subsets.cost[restricted].sum())
            if cost < incumbent:
                incumbent_masks, incumbent = restricted, cost
        timings["restricted_mip_s"] = time.perf_counter() - start
        threshold = (
            incumbent / master.scale - duals.sum() - (n - 1) * min(0.0, min_reduced) + _SLACK
        )
        keep = np.flatnonzero(np.isfinite(master.scaled) & (reduced <= threshold))
        keep = np.union1d(keep, incumbent_masks)
        return cls(
            problem=problem,
            subsets=subsets,
            masks=keep,
            incumbent_masks=incumbent_masks,
            incumbent=incumbent,
            lp_bound=max(0.0, lagrangian) * master.scale,
            timings=timings,
        )

    @property
    def candidate_groups(self) -> int:
        return int(np.isfinite(self.subsets.cost).sum())

    @property
    def columns(self) -> int:
        return len(self.masks)

    def pyomo_model(self) -> Any:
        """The Pyomo MILP (built on first use): ``x[c]`` binary per kept column ``c``."""
        if self._model is None:
            import pyomo.environ as pyo

            start = time.perf_counter()
            bits = self.subsets.bits(self.masks)
            scale = 1.0 / self.incumbent
            model = pyo.ConcreteModel(name="hbopt_set_partitioning")
            model.groups = pyo.RangeSet(0, len(self.masks) - 1)
            model.apps = pyo.RangeSet(0, self.subsets.n_apps - 1)
            model.x = pyo.Var(model.groups, within=pyo.Binary)
            covering = [np.flatnonzero(bits[:, j]) for j in range(self.subsets.n_apps)]
            model.cover = pyo.Constraint(
                model.apps, rule=lambda m, j: sum(m.x[int(c)] for c in covering[j]) == 1
            )
            costs = self.subsets.cost[self.masks] * scale
            model.cost = pyo.Objective(
                expr=sum(float(costs[c]) * model.x[c] for c in range(len(self.masks)))
            )
            self._model = model
            self.timings["build_s"] = time.perf_counter() - start
        return self._model

    def summary(self) -> dict[str, Any]:
        """Size of the model: candidate groups, variables, constraints, bounds."""
        return {
            "apps": self.subsets.n_apps,
            "candidate_groups": self.candidate_groups,
            "variables": self.columns,
            "constraints": self.subsets.n_apps,
            "incumbent": self.incumbent,
            "lp_bound": self.lp_bound,
            **self.timings,
        }

    def describe(self, masks: list[int] | np.ndarray | None = None) -> list[dict[str, Any]]:
        """Columns (all kept ones, or ``masks``) as app names with their Eq. 7 cost."""
        names = [app.name for app in self.problem.apps]
        masks = self.masks if masks is None else masks
        return [
            {
                "apps": [names[a] for a in self.subsets.members(int(m))],
                "cost": float(self.subsets.cost[int(m)]),
                "in_incumbent": int(m) in self.incumbent_masks,
            }
            for m in masks
        ]

    def solve(self, time_limit: float | None = None) -> tuple[list[int], Status, float]:
        """Solve the MILP; returns chosen masks, status and a proven lower bound."""
        from pyomo.contrib.solver.common.results import TerminationCondition
        from pyomo.contrib.solver.solvers.highs import Highs

        model = self.pyomo_model()
        if len(self.masks) == len(self.incumbent_masks) and self.lp_bound >= self.incumbent * (
            1 - 1e-12
        ):
            return list(self.incumbent_masks), Status.OPTIMAL, self.incumbent
        solver = Highs()
        if not solver.available():
            raise SolverUnavailableError("HiGHS is not available to Pyomo: pip install highspy")
        # No MIP start: Pyomo's appsi warm start with HiGHS 1.16 returned a wrong objective
        # (0.0) in our tests. The incumbent still bounds the column filter above and is the
        # fallback when HiGHS finds nothing better in time.
        start = time.perf_counter()
        result = solver.solve(
            model,
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            time_limit=None if time_limit is None else max(time_limit, 0.01),
            rel_gap=0.0,
            abs_gap=1e-12,
            threads=1,
        )
        self.timings["milp_s"] = time.perf_counter() - start
        condition = result.termination_condition
        found = result.incumbent_objective
        if found is not None and math.isfinite(found) and found <= 1.0:
            result.solution_loader.load_vars()
            picked = [int(self.masks[c]) for c in model.groups if model.x[c].value > 0.5]
        else:
            picked = list(self.incumbent_masks)
        bound = result.objective_bound
        lower = self.lp_bound
        if bound is not None and math.isfinite(bound):
            lower = max(lower, bound * self.incumbent)
        if condition == TerminationCondition.convergenceCriteriaSatisfied:
            return picked, Status.OPTIMAL, float(np.sum(self.subsets.cost[picked]))
        return picked, Status.TIME_LIMIT, lower

    def write(self, path: str | Path, file_format: str) -> None:
        """Write the MILP as ``lp`` or ``mps`` (atomically: no half-written file)."""
        if file_format not in ("lp", "mps"):
            raise InputError(f"unknown model format {file_format!r}: choose lp or mps")
        target = Path(path)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=f".{file_format}")
        os.close(handle)
        try:
            self.pyomo_model().write(
                temporary,
                format="cpxlp" if file_format == "lp" else "mps",
                io_options={"symbolic_solver_labels": True},
            )
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)


def _subset_sums(values: np.ndarray) -> np.ndarray:
    """``sum_{j in mask} values[j]`` for every mask, one addition per mask."""
    sums = np.zeros(1 << len(values))
    for j, value in enumerate(values):
        low = 1 << j
        sums[low : 2 * low] = sums[:low] + value
    return sums


def _incumbent(subsets: SubsetColumns) -> tuple[list[int], float]:
    """Best SLO-contiguous partition (a dynamic program over the subset table): a feasible
    plan that is never worse than every app alone."""
    n = subsets.n_apps
    best = [0.0] + [math.inf] * n
    cut = [0] * (n + 1)
    for high in range(1, n + 1):
        for low in range(high):
            cost = best[low] + float(subsets.cost[subsets.contiguous(low, high)])
            if cost < best[high]:
                best[high], cut[high] = cost, low
    masks, high = [], n
    while high:
        masks.append(subsets.contiguous(cut[high], high))
        high = cut[high]
    return masks, best[n]


class _MasterLP:
    """The LP relaxation over all subsets, solved by column generation with HiGHS.

    Costs are in units of ``scale`` (the first incumbent's cost) so that HiGHS's absolute
    tolerances suit costs of order 1e-5.
    """

    def __init__(self, highspy: Any, subsets: SubsetColumns, scale: float):
        self.highspy, self.subsets, self.scale = highspy, subsets, scale
        self.scaled = subsets.cost / scale
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        n = subsets.n_apps
        empty = np.array([], dtype=np.int32)
        self.highs.addRows(
            n, np.ones(n), np.ones(n), 0, np.zeros(n + 1, dtype=np.int32), empty, np.array([])
        )
        self.columns = np.array([], dtype=np.int64)  # masks in LP column order
        self.add(np.array([1 << j for j in range(n)]))

    def add(self, masks: np.ndarray) -> None:
        masks = np.setdiff1d(masks, self.columns)
        bits = self.subsets.bits(masks)
        rows, cols = np.nonzero(bits.T)
        order = np.argsort(cols, kind="stable")
        indices = rows[order].astype(np.int32)
        starts = np.searchsorted(cols[order], np.arange(len(masks))).astype(np.int32)
        # No upper bounds: the rows imply x <= 1, and a bound would take part in the duals.
        upper = np.full(len(masks), self.highspy.kHighsInf)
        self.highs.addCols(
            len(masks),
            self.scaled[masks],
            np.zeros(len(masks)),
            upper,
            len(indices),
            starts,
            indices,
            np.ones(len(indices)),
        )
        self.columns = np.concatenate([self.columns, masks])

    def _run(self, deadline: float | None) -> bool:
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            self.highs.setOptionValue("time_limit", remaining)
        self.highs.run()
        return self.highs.getModelStatus() == self.highspy.HighsModelStatus.kOptimal

    def solve(self, deadline: float | None) -> tuple[np.ndarray, float]:
        """Duals and the smallest reduced cost over ALL subsets (scaled units)."""
        n = self.subsets.n_apps
        feasible = np.isfinite(self.scaled)
        duals, min_reduced = np.zeros(n), -math.inf
        while self._run(deadline):
            duals = np.asarray(self.highs.getSolution().row_dual)
            reduced = np.where(feasible, self.scaled - _subset_sums(duals), np.inf)
            reduced[0] = np.inf
            min_reduced = float(reduced.min())
            if min_reduced >= -1e-9:
                break
            candidates = np.flatnonzero(reduced < -1e-9)
            if len(candidates) > _PRICE_BATCH:
                best = np.argpartition(reduced[candidates], _PRICE_BATCH)[:_PRICE_BATCH]
                candidates = candidates[best]
            self.add(candidates)
        if not math.isfinite(min_reduced):
            duals = self._cheapest_share_duals()
            reduced = np.where(feasible, self.scaled - _subset_sums(duals), np.inf)
            min_reduced = float(reduced[1:].min())
        return duals, min_reduced

    def _cheapest_share_duals(self) -> np.ndarray:
        """Duals for when the LP did not run in time: ``pi_w = eta_w * min_{S ni w} C_S``.

        Every group's cost ``eta_S C_S`` is at least the sum of its apps' ``pi_w``, so every
        reduced cost is >= 0 and ``sum(pi)`` is a valid lower bound (weaker than the LP's).
        """
        masks = np.arange(1, len(self.scaled))
        total = self.subsets.rate[-1]
        per_request = self.scaled[1:] * total / self.subsets.rate[1:]
        duals = np.empty(self.subsets.n_apps)
        for j in range(self.subsets.n_apps):
            holds = (masks >> j & 1).astype(bool)
            duals[j] = self.subsets.rate[1 << j] / total * per_request[holds].min()
        return duals

    def integer_plan(
        self, eligible: np.ndarray, deadline: float | None, limit: float = 5.0
    ) -> list[int] | None:
        """Best partition using only the generated columns in ``eligible`` (those with zero
        reduced cost: the LP optimum's support and its ties) and the singletons: a
        restricted-master MIP of at most ``limit`` seconds. A heuristic incumbent that
        tightens the filter; the MILP proves optimality."""
        keep = np.isin(self.columns, eligible) | (self.columns & (self.columns - 1) == 0)
        count = len(self.columns)
        self.highs.changeColsIntegrality(
            count,
            np.arange(count, dtype=np.int32),
            np.full(count, self.highspy.HighsVarType.kInteger),
        )
        dropped = np.flatnonzero(~keep).astype(np.int32)
        self.highs.changeColsBounds(
            len(dropped), dropped, np.zeros(len(dropped)), np.zeros(len(dropped))
        )
        self.highs.setOptionValue("mip_rel_gap", 0.0)
        cap = time.perf_counter() + limit
        solved = self._run(cap if deadline is None else min(deadline, cap))
        if not solved and self.highs.getInfo().primal_solution_status != 2:  # none feasible
            return None
        values = np.asarray(self.highs.getSolution().col_value)
        return [int(m) for m in self.columns[values > 0.5]]


@register("exact")
def exact(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    max_apps: int = 22,
) -> Plan:
    """Proven-optimal plan from the set-partitioning MILP (Pyomo + HiGHS).

    With ``time_limit`` the best plan found is returned with status ``time_limit`` and the
    proven lower bound (``plan.lower_bound``, ``plan.gap``).
    """
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    model = ExactModel.build(problem, max_apps=max_apps, deadline=deadline)
    remaining = None if deadline is None else deadline - time.perf_counter()
    if remaining is not None and remaining <= 0:
        masks, status, lower = model.incumbent_masks, Status.TIME_LIMIT, model.lp_bound
    else:
        masks, status, lower = model.solve(remaining)
    evaluator = problem.evaluator
    groups = [(model.subsets.group(evaluator, m), int(model.subsets.config[m])) for m in masks]
    return evaluator.make_plan(
        groups, method="exact", status=status, lower_bound=lower, extras={"model": model.summary()}
    )
