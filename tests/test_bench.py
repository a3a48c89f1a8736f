"""Tests that the benchmark harness makes reproducible instances, complete rows, honest gaps,
resumes, survives interrupts, runs on Dask, and rejects bad studies and instance files."""

from __future__ import annotations

import csv
import json
import logging
import math

import numpy as np
import pytest

import hbopt
from hbopt.bench import (
    COLUMNS,
    MethodSpec,
    Task,
    bundled_studies,
    load_study,
    paper_scenarios,
    read_instances,
    run_study,
    run_tasks,
    synthetic,
    table1,
)
from hbopt.bench import runner as runner_module
from hbopt.bench.report import bound_violations, build_rows
from hbopt.cli import main
from hbopt.traces import load_trace
from tests.conftest import data_path

HEURISTICS = ("harmony", "mbs", "batch", "single")
# Methods that certify or compute optima; those registered join the gap test.
REFERENCE_METHODS = ("exact", "contiguous", "brute")


def tiny_tasks(methods=HEURISTICS, time_limit=5.0, seed=0) -> list[Task]:
    """Every method on the tiny instances file (3 instances, 2-3 apps)."""
    return [
        Task(instance, MethodSpec(m, m), time_limit, seed)
        for instance in read_instances(data_path("bench_instances.json"))
        for m in methods
    ]


def comparable(rows):
    """What must not depend on where a row was computed."""
    return sorted(
        (r["instance"], r["method"], r["status"], r["cost_per_request"], r["n_groups"])
        for r in rows
    )


# -- instance sources -------------------------------------------------------------------


def test_synthetic_is_reproducible_and_seeded():
    first = synthetic("mixed", n_apps=[3, 5], count=3, models=["vgg19", "gpt2"], seed=7)
    again = synthetic("mixed", n_apps=[3, 5], count=3, models=["vgg19", "gpt2"], seed=7)
    other = synthetic("mixed", n_apps=[3, 5], count=3, models=["vgg19", "gpt2"], seed=8)
    assert first == again
    assert [i.apps for i in first] != [i.apps for i in other]
    # Instance k does not depend on how many instances are drawn.
    fewer = synthetic("mixed", n_apps=3, count=1, models="vgg19", seed=7)
    assert fewer[0] == first[0]
    assert len({i.name for i in first}) == len(first) == 2 * 3 * 2


def test_synthetic_families_respect_their_ranges():
    low = synthetic("low-rate", n_apps=50, count=2, models="bert", seed=1)
    rates = [a.rate for i in low for a in i.apps]
    assert max(rates) < 1.0 and min(rates) >= 0.05
    mixed = synthetic("mixed", n_apps=40, count=1, models="vgg19", seed=1, tight_share=0.25)[0]
    slos = sorted(a.slo for a in mixed.apps)
    assert sum(s <= 0.3 + 0.7 / 4 + 1e-9 for s in slos) == 10
    assert all(s <= 0.475 or s >= 0.825 for s in slos)
    uniform = synthetic("uniform", n_apps=30, count=1, models="gpt2", seed=1)[0]
    assert all(1.0 <= a.slo <= 2.4 for a in uniform.apps)


def test_paper_scenarios_replay_the_traces():
    instances = paper_scenarios(["vgg19", "videomae"], "paper", minutes=5, seed=2, tag="fig11")
    assert instances == paper_scenarios(
        ["vgg19", "videomae"], "paper", minutes=5, seed=2, tag="fig11"
    )
    assert instances != paper_scenarios(
        ["vgg19", "videomae"], "paper", minutes=5, seed=3, tag="fig11"
    )
    assert len(instances) == 10
    first = instances[0]
    minute = int(first.name.rsplit("/m", 1)[1])
    traces = [load_trace(f"azure_app{k}") for k in range(1, 5)]
    assert [a.slo for a in first.apps] == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    for i, app in enumerate(first.apps):
        assert app.rate == pytest.approx(traces[i % 4][minute] / 60)
    assert [a.slo for a in instances[5].apps][:2] == [1.0, 1.2]
    every = paper_scenarios("vgg19", n_apps=12)
    assert len(every) == 120 and every[0].apps[8].slo == 0.3


def test_table1_is_the_paper_example():
    instances = table1(["alibaba-reference", "paper"])
    assert [i.pricing for i in instances] == ["alibaba-reference", "paper"]
    assert instances[0].apps == hbopt.EXAMPLE_APPS


@pytest.mark.parametrize("name", ["bench_instances.json", "bench_instances.csv"])
def test_read_instances_files(name):
    instances = read_instances(data_path(name))
    assert [i.name for i in instances] == ["tiny-a", "tiny-b", "tight-cpu"]
    assert instances[1].model == "bert" and instances[1].margin == 1.2
    assert instances[2].model == "vgg19" and instances[2].pricing == "alibaba-reference"
    assert [a.rate for a in instances[1].apps] == [0.5, 12.0, 4.0]


# -- runner ---------------------------------------------------------------------------------


def test_runner_rows_are_complete(tmp_path):
    tasks = tiny_tasks()
    result = run_tasks(tasks, tmp_path, plots=False)
    assert result.new_rows == len(tasks) == 12
    assert len(result.rows) == 12
    for row in result.rows:
        assert set(COLUMNS) <= set(row)
        if row["status"] == "error":
            continue
        assert row["status"] == "feasible"
        assert row["n_groups"] >= 1 and 0 <= row["n_gpu_groups"] <= row["n_groups"]
        assert row["cost_per_hour"] == pytest.approx(
            row["cost_per_request"] * row["total_rate"] * 3600
        )
        assert row["solve_time_s"] > 0
    with (tmp_path / "results.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 12 and tuple(table[0]) == COLUMNS
    data = json.loads((tmp_path / "results.json").read_text())
    assert len(data["rows"]) == 12 and [s["method"] for s in data["summary"]] == list(HEURISTICS)
    summary = (tmp_path / "summary.md").read_text()
    assert all(f"| {m} |" in summary for m in HEURISTICS)


def test_method_errors_become_rows(tmp_path):
    result = run_tasks(tiny_tasks(), tmp_path, plots=False)
    error = next(r for r in result.rows if r["instance"] == "tight-cpu" and r["method"] == "batch")
    assert error["status"] == "error" and "'fast'" in error["message"]
    assert error["gap"] is None and error["cost_per_request"] is None
    batch = next(s for s in result.summary if s["method"] == "batch")
    assert batch["errors"] == 1 and batch["solved"] == 2


def test_gaps_are_nonnegative_and_measured_against_the_reference(tmp_path):
    methods = HEURISTICS + tuple(m for m in REFERENCE_METHODS if m in hbopt.METHODS)
    result = run_tasks(tiny_tasks(methods), tmp_path, plots=False)
    by_instance = {}
    for row in result.rows:
        by_instance.setdefault(row["instance"], []).append(row)
    for rows in by_instance.values():
        solved = [r for r in rows if r["gap"] is not None]
        assert solved
        for r in solved:
            # A plan splitting an app (MBS+) may undercut a bound over partitions.
            assert r["gap"] >= -1e-9 or r["n_split_apps"] > 0
            if r["status"] != "optimal":
                expected = (r["cost_per_request"] - r["reference"]) / r["cost_per_request"]
                assert r["gap"] == pytest.approx(expected)
        if solved[0]["gap_basis"] == "best_found":
            assert min(r["gap"] for r in solved) == 0.0


def test_gap_uses_the_best_lower_bound():
    base = {"model": "vgg19", "pricing": "paper", "n_apps": 2, "tag": ""}
    raw = [
        {**base, "instance": "i", "method": "h", "status": "feasible", "cost_per_request": 10.0},
        {
            **base,
            "instance": "i",
            "method": "x",
            "status": "time_limit",
            "cost_per_request": 9.0,
            "lower_bound": 8.0,
        },
        {
            **base,
            "instance": "i",
            "method": "y",
            "status": "time_limit",
            "cost_per_request": 9.5,
            "lower_bound": 7.0,
        },
        {**base, "instance": "j", "method": "h", "status": "feasible", "cost_per_request": 4.0},
        {**base, "instance": "j", "method": "b", "status": "optimal", "cost_per_request": 2.0},
        {**base, "instance": "k", "method": "h", "status": "feasible", "cost_per_request": 5.0},
        {**base, "instance": "k", "method": "m", "status": "feasible", "cost_per_request": 4.0},
        {**base, "instance": "k", "method": "e", "status": "error", "cost_per_request": None},
    ]
    rows = {(r["instance"], r["method"]): r for r in build_rows(raw)}
    assert (
        rows["i", "h"]["gap"] == pytest.approx(0.2) and rows["i", "h"]["gap_basis"] == "lower_bound"
    )
    assert rows["i", "x"]["gap"] == pytest.approx(1 / 9)
    assert rows["j", "h"]["gap"] == pytest.approx(0.5) and rows["j", "b"]["gap"] == 0.0
    assert (
        rows["k", "h"]["gap"] == pytest.approx(0.2) and rows["k", "h"]["gap_basis"] == "best_found"
    )
    assert rows["k", "e"]["gap"] is None
    assert bound_violations(list(rows.values())) == []
    split = {**base, "instance": "i", "method": "s", "status": "feasible", "n_split_apps": 1}
    whole = {**base, "instance": "i", "method": "w", "status": "feasible", "n_split_apps": 0}
    checked = build_rows(
        [*raw, split | {"cost_per_request": 7.5}, whole | {"cost_per_request": 7.9}]
    )
    assert [(r["instance"], r["method"]) for r in bound_violations(checked)] == [("i", "w")]
    assert bound_violations(checked)[0]["reference_by"] == "x"
    # Two methods claiming optimality with different costs: the cheaper plan exposes the other.
    claims = [
        {**base, "instance": "o", "method": m, "status": "optimal", "cost_per_request": c}
        for m, c in (("exact", 1.0), ("brute", 0.99))
    ]
    [exposed] = bound_violations(build_rows(claims))
    assert exposed["method"] == "brute" and exposed["reference_by"] == "exact"


def test_resume_skips_done_rows(tmp_path):
    first = run_tasks(tiny_tasks(["harmony"]), tmp_path, plots=False)
    assert first.new_rows == 3
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    second = run_tasks(tiny_tasks(["harmony", "single"]), tmp_path, plots=False)
    assert second.new_rows == 3 and len(second.rows) == 6
    assert (tmp_path / "rows.jsonl").read_text().splitlines()[:3] == lines
    assert run_tasks(tiny_tasks(["harmony", "single"]), tmp_path, plots=False).new_rows == 0
    # Rows of earlier runs stay in the reports even when a run asks for fewer methods.
    assert len(run_tasks(tiny_tasks(["single"]), tmp_path, plots=False).rows) == 6


def test_resume_drops_a_partial_last_line(tmp_path):
    run_tasks(tiny_tasks(["harmony"]), tmp_path, plots=False)
    rows_file = tmp_path / "rows.jsonl"
    lines = rows_file.read_text().splitlines(keepends=True)
    rows_file.write_text("".join(lines[:2]) + lines[2][:25])
    again = run_tasks(tiny_tasks(["harmony"]), tmp_path, plots=False)
    assert again.new_rows == 1 and len(rows_file.read_text().splitlines()) == 3


def test_resume_refuses_other_settings(tmp_path):
    run_tasks(tiny_tasks(["single"], time_limit=5.0), tmp_path, plots=False)
    with pytest.raises(hbopt.InputError, match="another time limit"):
        run_tasks(tiny_tasks(["single"], time_limit=9.0), tmp_path, plots=False)
    with pytest.raises(hbopt.InputError, match="another seed"):
        run_tasks(tiny_tasks(["single"], seed=4), tmp_path, plots=False)


def test_interrupt_keeps_done_rows(tmp_path, monkeypatch):
    solve_one = runner_module.run_task
    calls = []

    def interrupted(task):
        calls.append(task.key)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return solve_one(task)

    monkeypatch.setattr(runner_module, "run_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_tasks(tiny_tasks(), tmp_path, plots=False)
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 2
    assert "Interrupted run" in (tmp_path / "summary.md").read_text()
    monkeypatch.setattr(runner_module, "run_task", solve_one)
    assert run_tasks(tiny_tasks(), tmp_path, plots=False).new_rows == 10


def test_dask_local_cluster_gives_the_same_rows(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    tasks = tiny_tasks(["harmony", "mbs", "batch"])
    local = run_tasks(tasks, tmp_path / "local", plots=False)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
    ):
        remote = run_tasks(tasks, tmp_path / "dask", client=client, plots=False)
    assert len([t for t in stream.data if "run_task" in t["key"]]) == len(tasks)
    assert remote.new_rows == len(tasks)
    assert comparable(remote.rows) == comparable(local.rows)
    assert [r["instance"] for r in remote.rows] == [r["instance"] for r in local.rows]


def test_study_runs_with_plots(tmp_path):
    study = load_study(data_path("study_tiny.toml"))
    assert study.seed == 3 and study.methods == ("harmony", "single", "harmony-exactprov")
    result = run_study(study, tmp_path)
    assert len(result.rows) == 3 * 2 + 2 * 2 * 2
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert plots == sorted(
        f"{name}.{ext}"
        for name in ("cost_by_model", "gaps", "merging", "time_vs_apps")
        for ext in ("png", "svg")
    )
    assert (tmp_path / "plots" / "gaps.png").read_bytes()[:4] == b"\x89PNG"
    exact_provisioning = [r for r in result.rows if r["method"] == "harmony-exactprov"]
    assert exact_provisioning and all(
        r["options"] == {"provisioning": "exact"} for r in exact_provisioning
    )


def test_study_method_selection(tmp_path):
    study = load_study(data_path("study_tiny.toml")).select(["single"])
    assert study.methods == ("single",) and len(study.parts) == 1
    with pytest.raises(hbopt.InputError, match="'exact' is not part of study"):
        load_study(data_path("study_tiny.toml")).select(["exact"])


def test_bundled_studies_load():
    studies = bundled_studies()
    assert {"paper", "scaling", "smoke"} <= set(studies)
    for name in studies:
        load_study(name).check()  # every method registered, every option accepted
    paper = load_study("paper")
    tags = {i.tag for part in paper.parts for i in part.instances}
    assert tags == {"table1", "fig11", "table4"}
    fig11 = {i.name for part in paper.parts for i in part.instances if i.tag == "fig11"}
    assert len(fig11) == 4 * 2 * 20
    sizes = {i.n_apps for part in load_study("scaling").parts for i in part.instances}
    assert min(sizes) == 4 and max(sizes) == 500


def test_unregistered_study_method_fails_clearly(tmp_path):
    study = load_study(data_path("bad_study_unregistered.toml"))
    with pytest.raises(hbopt.InputError, match="method 'teleport' is not registered"):
        run_study(study, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- command line ---------------------------------------------------------------------------


def test_cli_bench_study_and_resume(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["bench", "--study", "smoke", "--out", str(out), "--no-progress"]) == 0
    assert "(12 new)" in capsys.readouterr().out
    for name in ("results.csv", "results.json", "summary.md", "run.json", "plots/gaps.svg"):
        assert (out / name).is_file()
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == f"hbopt bench --study smoke --out {out} --no-progress"
    assert run["machine"]["nproc"] >= 1
    args = ["bench", "--study", "smoke", "--out", str(out), "--no-progress", "--no-plots"]
    assert main([*args, "--methods", "harmony"]) == 0
    assert "(0 new)" in capsys.readouterr().out


def test_cli_bench_instances_file(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["bench", "--instances", str(data_path("bench_instances.csv")), "--out", str(out)]
    assert main([*args, "--methods", "harmony,single", "--no-progress", "--no-plots"]) == 0
    with (out / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and {r["method"] for r in rows} == {"harmony", "single"}
    assert all(math.isfinite(float(r["cost_per_request"])) for r in rows)


def _fails_cleanly(args, capsys, fragment, out):
    try:
        status = main([*args, "--out", str(out), "--no-progress"])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad_bench_no_apps.json", "apps must be a non-empty list"),
        ("bad_bench_unknown_key.json", "unexpected keys ['modle']"),
        ("bad_bench_duplicate.json", "'twice' is used twice"),
        ("bad_bench_unknown_model.json", "unknown model 'resnet9000'"),
        ("bad_bench_unmeetable.csv", "instance 'too-tight'"),
        ("bad_bench_missing_column.csv", "missing slo"),
        ("bad_bench_settings_disagree.csv", "settings must agree"),
        ("bad_bench_rate.csv", "rate 'fast' is not a number"),
    ],
)
def test_cli_bad_instances_file(tmp_path, capsys, name, fragment):
    args = ["bench", "--instances", str(data_path(name)), "--methods", "harmony"]
    _fails_cleanly(args, capsys, fragment, tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad_study_unregistered.toml", "method 'teleport' is not registered"),
        ("bad_study_option.toml", "does not take option 'speed'"),
        ("bad_study_source.toml", "source must be one of"),
        ("bad_study_key.toml", "unknown keys ['minuts']"),
        ("bad_study_minutes.toml", "a sample of 500 minutes"),
        ("bad_study_syntax.toml", "is not valid TOML"),
        ("bad_study_no_parts.toml", "needs at least one [[parts]]"),
        ("bad_study_family.toml", "unknown synthetic family 'chaotic'"),
        ("bad_study_no_methods.toml", "needs methods"),
    ],
)
def test_cli_bad_study_file(tmp_path, capsys, name, fragment):
    _fails_cleanly(["bench", "--study", str(data_path(name))], capsys, fragment, tmp_path / "out")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--study", "no-such-study"], "unknown study 'no-such-study'"),
        (["--study", "smoke", "--methods", "harmony,exact"], "'exact' is not part of study"),
        (["--instances", str(data_path("bench_instances.json"))], "needs --methods"),
        (["--study", "smoke", "--workers", "0"], "--workers must be at least 1"),
        (["--study", "smoke", "--time-limit", "-1"], "--time-limit must be a positive"),
        (["--study", "smoke", "--workers", "2", "--scheduler", "x:1"], "not allowed with"),
        (["--methods", "harmony"], "one of the arguments --study --instances is required"),
    ],
)
def test_cli_bad_bench_arguments(tmp_path, capsys, args, fragment):
    _fails_cleanly(["bench", *args], capsys, fragment, tmp_path / "out")


def test_synthetic_rates_are_log_uniform():
    rates = np.array([a.rate for i in synthetic("uniform", 200, 5, seed=0) for a in i.apps])
    logs = np.log(rates)
    assert rates.min() >= 0.5 and rates.max() <= 30.0
    # A log-uniform sample has about half its mass below the geometric mean of the range.
    assert abs(np.mean(logs < np.log(np.sqrt(0.5 * 30.0))) - 0.5) < 0.05


def test_cli_workers_start_a_local_cluster(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    common = [
        "bench",
        "--study",
        "smoke",
        "--no-progress",
        "--no-plots",
        "--methods",
        "harmony,mbs",
    ]
    assert main([*common, "--out", str(tmp_path / "serial")]) == 0
    assert main([*common, "--out", str(tmp_path / "cluster"), "--workers", "2"]) == 0
    serial, cluster = (
        [json.loads(line) for line in (tmp_path / name / "rows.jsonl").read_text().splitlines()]
        for name in ("serial", "cluster")
    )
    assert len(cluster) == 6 and comparable(cluster) == comparable(serial)
    assert json.loads((tmp_path / "cluster" / "run.json").read_text())["settings"]["workers"] == 2
