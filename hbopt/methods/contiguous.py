"""Optimal partition into groups contiguous in SLO order: a shortest path over a DAG.

Node ``i`` means "the ``i`` tightest apps are planned"; edge ``i -> j`` is the group of the
sorted apps ``i .. j-1`` on its cheapest configuration, weighted by its Eq. 7 cost. The
paper's heuristic only forms such groups, so this is the best any contiguous merging can do.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from hbopt.columns import CheapestConfig
from hbopt.evaluator import equivalent_timeout_step
from hbopt.methods.registry import register
from hbopt.plan import Plan
from hbopt.problem import Problem

__all__ = ["contiguous", "contiguous_graph"]


def contiguous_graph(problem: Problem) -> tuple[nx.DiGraph, list[int]]:
    """The DAG of contiguous groups and the SLO order of the apps it refers to."""
    evaluator = problem.evaluator
    n = len(problem.apps)
    order = sorted(range(n), key=lambda a: (evaluator.slo[a], a))
    slo, rate = evaluator.slo[order], evaluator.rate[order]
    cheapest = CheapestConfig(evaluator)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n + 1))
    for low in range(n):
        equivalent = np.empty(n - low)
        total = np.empty(n - low)
        equivalent[0], total[0] = slo[low], rate[low]
        for k in range(1, n - low):  # extend by the next app: one Eq. 5 step
            equivalent[k], total[k] = equivalent_timeout_step(
                equivalent[k - 1], total[k - 1], slo[low + k], rate[low + k]
            )
        per_request, config = cheapest(np.full(n - low, slo[low]), equivalent, total)
        for k in np.flatnonzero(np.isfinite(per_request)):
            weight = total[k] / evaluator.total_rate * per_request[k]
            graph.add_edge(low, low + k + 1, weight=float(weight), config=int(config[k]))
    return graph, order


@register("contiguous")
def contiguous(problem: Problem, *, time_limit: float | None = None, seed: int = 0) -> Plan:
    """The cheapest plan whose groups are contiguous in SLO order (optimal among those)."""
    evaluator = problem.evaluator
    graph, order = contiguous_graph(problem)
    path = nx.shortest_path(graph, 0, len(order), weight="weight")
    groups = [
        (evaluator.group(order[low:high]), graph.edges[low, high]["config"])
        for low, high in itertools.pairwise(path)
    ]
    return evaluator.make_plan(
        groups, method="contiguous", extras={"optimal_among": "SLO-contiguous partitions"}
    )
