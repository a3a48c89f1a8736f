"""Tests that profiles load, validate every field and compute GPU memory demand (Eq. 8)."""

import pytest

import hbopt
from hbopt.profile import load_profile
from tests.conftest import MODELS, data_path


@pytest.mark.parametrize("name", MODELS)
def test_bundled_profiles_load_and_round_trip(name):
    profile = load_profile(name)
    assert profile.name == name
    assert hbopt.Profile.from_dict(profile.to_dict()) == profile


def test_bundled_profiles_listed():
    assert set(hbopt.bundled_profiles()) == set(MODELS)


def test_profile_by_path_loads():
    path = hbopt.bundled_profiles()["bert"]
    assert load_profile(path).gpu.gpu_share == pytest.approx(0.43)


def test_gpu_memory_demand_follows_max_batch_per_gb():
    videomae = load_profile("videomae").gpu  # [0, 4, 6, 12, 14]
    assert [videomae.memory_demand_gb(b) for b in (1, 4, 5, 6, 7, 12, 14, 15, 32)] == [
        2,
        2,
        3,
        3,
        4,
        4,
        5,
        6,
        6,
    ]
    assert load_profile("bert").gpu.memory_demand_gb(32) == 1  # empty list: 1 GB fits all


@pytest.mark.parametrize(
    ("file", "field"),
    [
        ("profile_negative_alpha.json", "cpu.latency_avg[0][0] (alpha)"),
        ("profile_missing_xi1.json", "gpu.xi1"),
        ("profile_short_rows.json", "cpu.latency_max"),
        ("profile_negative_memory.json", "cpu.memory_mb.base"),
        ("profile_bad_xi2.json", "gpu.xi2"),
        ("profile_not_json.json", "not readable JSON"),
    ],
)
def test_bad_profile_names_the_field(file, field):
    with pytest.raises(
        hbopt.InputError,
        match=field.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)").replace("]", r"\]"),
    ):
        load_profile(data_path(file))


def test_unknown_model_lists_bundled_names():
    with pytest.raises(hbopt.InputError, match="vgg19"):
        load_profile("resnet")
