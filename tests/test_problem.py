"""Tests that apps files are read and validated and problems reject bad input."""

import pytest

import hbopt
from hbopt.problem import read_apps
from tests.conftest import data_path


def test_read_apps_csv_and_json():
    assert read_apps(data_path("apps.csv")) == hbopt.EXAMPLE_APPS
    assert [a.name for a in read_apps(data_path("apps.json"))] == ["a", "b"]


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("bad_missing_column.csv", "missing rate"),
        ("bad_negative_slo.csv", "slo must be a positive"),
        ("bad_nan_rate.csv", "rate must be a positive finite"),
        ("bad_text_rate.csv", "is not a number"),
        ("bad_empty.csv", "lists no apps"),
        ("bad_not_list.json", "expected a JSON list"),
        ("bad_json_missing_key.json", "needs name, slo and rate"),
        ("bad_zero_rate.json", "rate must be a positive"),
        ("no_such_file.csv", "cannot read apps file"),
    ],
)
def test_bad_apps_file(file, message):
    with pytest.raises(hbopt.InputError, match=message):
        read_apps(data_path(file))


def test_duplicate_names_rejected():
    with pytest.raises(hbopt.InputError, match="duplicate app name 'app1'"):
        hbopt.Problem.build(data_path("bad_duplicate.csv"))


def test_empty_app_list_rejected():
    with pytest.raises(hbopt.InputError, match="empty"):
        hbopt.Problem.build([])


def test_unmeetable_slo_names_app_and_lowest_latency():
    message = r"app 'tight'.*lowest latency .* is 0\.003793 s"
    with pytest.raises(hbopt.InfeasibleError, match=message):
        hbopt.Problem.build(data_path("bad_unmeetable.csv"))


def test_margin_and_shares_validated():
    with pytest.raises(hbopt.InputError, match="margin"):
        hbopt.example_problem(margin=float("nan"))
    with pytest.raises(hbopt.InputError, match="gpu_share"):
        hbopt.example_problem(gpu_shares=True)  # vgg19 has no share split


def test_unknown_pricing_lists_presets():
    with pytest.raises(hbopt.InputError, match="alibaba-reference"):
        hbopt.example_problem(pricing="aws")
