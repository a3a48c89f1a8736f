"""Tests that fast funcProvision is feasible and never beats the exact grid scan, and the
monotonicity facts its binary searches rely on."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hbopt.provision import provision_exact, provision_fast
from tests.conftest import problems


@st.composite
def groups(draw):
    problem = draw(problems(max_apps=5))
    evaluator = problem.evaluator
    members = draw(st.sets(st.integers(0, len(problem.apps) - 1), min_size=1))
    return evaluator, evaluator.group(sorted(members))


@given(groups())
def test_fast_is_feasible_and_never_cheaper_than_exact(case):
    evaluator, group = case
    exact, fast = provision_exact(evaluator, group), provision_fast(evaluator, group)
    assert (exact is None) == (fast is None)
    if exact is not None:
        assert evaluator.feasible(group)[fast]
        assert evaluator.feasible(group)[exact]
        cost = evaluator.configs.cost_per_request
        assert cost[fast] >= cost[exact] - 1e-18
        assert cost[exact] == cost[evaluator.feasible(group)].min()


@given(groups())
def test_cpu_feasibility_monotone_in_vcpu(case):
    evaluator, group = case
    feasible = evaluator.feasible(group)
    for index in evaluator.cpu_by_batch.values():
        row = feasible[index].astype(int)
        assert np.all(np.diff(row) >= 0)


@given(groups())
def test_gpu_feasibility_monotone_in_batch(case):
    evaluator, group = case
    feasible = evaluator.feasible(group)
    for index in evaluator.gpu_by_memory.values():
        row = feasible[index].astype(int)
        assert np.all(np.diff(row) <= 0)


@given(groups())
def test_adding_an_app_never_enlarges_the_feasible_set_of_tight_slo(case):
    evaluator, group = case
    # Eq. 10: every app must meet its SLO; a group's latency bound is set by its tightest app.
    tightest = evaluator.group([group.apps[0]])
    bound_ok = evaluator.latency_bound <= evaluator.slo[group.apps[0]] + 1e-9
    assert not np.any(evaluator.feasible(group) & ~bound_ok)
    assert np.all(evaluator.feasible(tightest) <= bound_ok)
