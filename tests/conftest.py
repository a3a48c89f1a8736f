"""Shared fixtures and hypothesis strategies for the hbopt tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import hbopt

DATA = Path(__file__).parent / "data"
MODELS = ("vgg19", "bert", "gpt2", "videomae")
PRICINGS = ("alibaba-reference", "paper")

settings.register_profile(
    "hbopt", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("hbopt")


def data_path(name: str) -> Path:
    """Path of a file in tests/data."""
    return DATA / name


@st.composite
def problems(draw, max_apps: int = 5, models=MODELS, pricings=PRICINGS) -> hbopt.Problem:
    """Random problems with meetable SLOs: 1..max_apps apps over bundled models."""
    n = draw(st.integers(1, max_apps))
    model = draw(st.sampled_from(models))
    pricing = draw(st.sampled_from(pricings))
    slo_low = {"gpt2": 1.0, "videomae": 1.0}.get(model, 0.3)
    apps = [
        hbopt.App(
            f"app{i}",
            slo=draw(st.floats(slo_low, slo_low + 1.5).map(lambda x: round(x, 2))),
            rate=draw(st.floats(-3.0, 4.0).map(lambda x: round(2.0**x, 3))),
        )
        for i in range(n)
    ]
    return hbopt.Problem.build(apps, model, pricing)


@pytest.fixture
def example() -> hbopt.Problem:
    """The paper's Table I example."""
    return hbopt.example_problem()
