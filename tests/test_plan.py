"""Tests that plans survive a JSON round trip and keep the documented keys."""

import json

import pytest

import hbopt

KEYS = {
    "method",
    "model",
    "pricing",
    "status",
    "cost_per_request",
    "cost_per_hour",
    "solve_time_s",
    "groups",
}
GROUP_KEYS = {
    "apps",
    "function",
    "vcpu",
    "gpu_memory_gb",
    "batch",
    "timeouts",
    "latency_avg",
    "latency_max",
    "rate",
    "cost_per_request",
}


@pytest.mark.parametrize("method", ["harmony", "mbs"])
def test_json_round_trip(example, method, tmp_path):
    plan = hbopt.solve(example, method)
    path = tmp_path / "plan.json"
    plan.to_json(path)
    data = json.loads(path.read_text())
    assert set(data) >= KEYS and all(set(g) >= GROUP_KEYS for g in data["groups"])
    again = hbopt.Plan.from_json(path)
    assert again.groups == plan.groups and again.status == plan.status
    assert again.score().cost_per_request == pytest.approx(plan.cost_per_request, rel=1e-12)


def test_malformed_plan_rejected(tmp_path):
    with pytest.raises(hbopt.InputError, match="missing keys"):
        hbopt.Plan.from_json('{"method": "x"}')
    with pytest.raises(hbopt.InputError, match="cannot read plan file"):
        hbopt.Plan.from_json(tmp_path / "nope.json")
