"""Tests that `hbopt plan` prints plans, writes JSON and fails cleanly on bad input."""

import contextlib
import json

import pytest

from hbopt.cli import main
from tests.conftest import data_path


def test_plan_example_prints_table(capsys):
    assert main(["plan"]) == 0
    out = capsys.readouterr().out
    assert "bundled example" in out and "harmony plan for vgg19" in out and "CNY/hour" in out


@pytest.mark.parametrize("method", ["harmony", "batch", "mbs", "single"])
def test_plan_json_to_stdout(method, capsys):
    assert (
        main(["plan", "--apps", str(data_path("apps.json")), "--method", method, "--json", "-"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == method and data["status"] == "feasible"


def test_plan_json_file_with_options(tmp_path):
    out = tmp_path / "plan.json"
    assert (
        main(
            [
                "plan",
                "--model",
                "bert",
                "--apps",
                str(data_path("apps.csv")),
                "--pricing",
                "paper",
                "--margin",
                "1.2",
                "--gpu-shares",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["pricing"] == "paper" and data["problem"]["margin"] == 1.2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "resnet"], "unknown model 'resnet'"),
        (["--model", str(data_path("profile_negative_alpha.json"))], "alpha"),
        (["--apps", str(data_path("bad_missing_column.csv"))], "missing rate"),
        (["--apps", str(data_path("bad_duplicate.csv"))], "duplicate app name"),
        (["--apps", str(data_path("bad_negative_slo.csv"))], "slo must be a positive"),
        (["--apps", str(data_path("bad_nan_rate.csv"))], "rate must be a positive finite"),
        (["--apps", str(data_path("bad_empty.csv"))], "lists no apps"),
        (["--apps", str(data_path("bad_unmeetable.csv"))], "app 'tight'"),
        (["--apps", str(data_path("bad_zero_rate.json"))], "rate must be a positive"),
        (["--margin", "0.5"], "margin must be"),
        (["--method", "greedy"], "invalid choice"),
        (["--gpu-shares"], "gpu_share"),
        (["--deterministic"], "does not take option 'deterministic'"),
    ],
)
def test_bad_input_one_line_exit_2_no_file(args, message, tmp_path, capsys):
    out = tmp_path / "plan.json"
    argparse_rejects = args[0] == "--method"
    with pytest.raises(SystemExit) if argparse_rejects else contextlib.nullcontext() as exit_:
        status = main(["plan", *args, "--json", str(out)])
    assert (exit_.value.code if argparse_rejects else status) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())
