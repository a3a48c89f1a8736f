"""Tests that the simulator reproduces the model's latency and cost, runs the batching
buffers correctly, replays traces, and that `hbopt simulate` fails cleanly on bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hbopt
from hbopt.cli import main
from hbopt.evaluator import function_configs, gpu_latency, gpu_work
from hbopt.methods.baselines import equal_rate_groups
from hbopt.profile import GpuProfile
from hbopt.provision import provision_exact
from hbopt.simulate import CpuLatency, GpuTimeSlicing, form_batches, replay_trace, simulate
from hbopt.traces import load_trace

Z = 5.0  # tolerance in standard errors: a false alarm has probability below 1e-6


def _slicing(gpu: GpuProfile, memory: int, batches: int = 32) -> GpuTimeSlicing:
    sizes = np.arange(1, batches + 1)
    work, _ = gpu_work(gpu, sizes, np.ones(batches))
    return GpuTimeSlicing(work, np.zeros(batches), gpu.total_memory_gb, memory, gpu.time_slice_s)


def _eq3_eq4(gpu: GpuProfile, batch: np.ndarray, memory: int) -> tuple[np.ndarray, np.ndarray]:
    return gpu_latency(gpu, batch, np.full(len(batch), float(memory)), np.ones(len(batch)))


# ----------------------------------------------------------------------------- latency
@pytest.mark.parametrize("memory", [1, 2, 5, 12, 23, 24])
def test_gpu_mean_matches_eq3_when_work_spans_a_window(memory):
    """Tests that the mean GPU latency matches Eq. 3 when the work's position within a slice
    window is spread evenly (Eq. 3 is the mechanism's average over that position)."""
    vgg = hbopt.load_profile("vgg19").gpu
    window = memory * vgg.time_slice_s
    # L0(b) = (3 + (b - 0.5) / 32) windows for b = 1..32: evenly spread fractional parts.
    gpu = GpuProfile("test", 24, vgg.time_slice_s, window / 32, 3 * window - window / 64, (0,), 0)
    rng = np.random.default_rng(memory)
    sizes = rng.integers(1, 33, 400_000)
    latency = _slicing(gpu, memory).sample(sizes, rng)
    eq3, eq4 = _eq3_eq4(gpu, sizes, memory)
    tolerance = Z * latency.std() / math.sqrt(len(latency)) + 1e-12
    assert abs(latency.mean() - eq3.mean()) <= tolerance
    assert np.all(latency <= eq4 + 1e-12)


@pytest.mark.parametrize("memory", [1, 2, 3, 8, 16, 23, 24])
@pytest.mark.parametrize("batch", [1, 4, 13, 32])
def test_gpu_latency_matches_eq3_up_to_slicing_term_and_never_exceeds_eq4(memory, batch):
    """Tests that for one batch size the mean GPU latency is Eq. 3 plus the slicing term
    (I^2/P)(ceil(W/A) - W/A - 1/2), within (M - m)^2 tau / (2M) of Eq. 3, and that no draw
    exceeds Eq. 4 while the largest draw reaches it."""
    gpu = hbopt.load_profile("vgg19").gpu
    rng = np.random.default_rng(100 * memory + batch)
    sizes = np.full(100_000, batch)
    latency = _slicing(gpu, memory).sample(sizes, rng)
    eq3, eq4 = (float(x[0]) for x in _eq3_eq4(gpu, sizes[:1], memory))
    period, window = gpu.total_memory_gb * gpu.time_slice_s, memory * gpu.time_slice_s
    idle, work = period - window, gpu.xi1 * batch + gpu.xi2
    term = idle**2 / period * (math.ceil(work / window) - work / window - 0.5)
    tolerance = Z * latency.std() / math.sqrt(len(latency)) + 1e-12
    assert abs(latency.mean() - (eq3 + term)) <= tolerance
    assert abs(latency.mean() - eq3) <= idle**2 / (2 * period) + tolerance
    assert latency.max() <= eq4 + 1e-12
    assert latency.max() >= eq4 - 1e-3 * eq4


def test_cpu_latency_has_mean_l_avg_and_support_below_l_max():
    """Tests that CPU latency draws average L_avg (Eq. 1) and never exceed L_max."""
    problem = hbopt.example_problem()
    sizes = np.array([1, 2, 3, 4])
    for vcpu in (0.5, 1.5, 4.0):
        configs = function_configs(problem, np.zeros(4, bool), np.full(4, vcpu), sizes)
        model = CpuLatency(configs.latency_avg, configs.latency_max)
        rng = np.random.default_rng(int(vcpu * 10))
        for b in sizes:
            draws = model.sample(np.full(50_000, b), rng)
            tolerance = Z * draws.std() / math.sqrt(len(draws))
            assert abs(draws.mean() - configs.latency_avg[b - 1]) <= tolerance
            assert draws.max() <= configs.latency_max[b - 1] and draws.min() >= 0


def test_cpu_latency_is_constant_where_profile_max_is_below_average():
    """Tests that an inconsistent profile row (L_max <= L_avg) yields the constant L_avg."""
    model = CpuLatency(np.array([0.5, 0.8]), np.array([0.4, 1.0]))
    draws = model.sample(np.array([1, 1, 1]), np.random.default_rng(0))
    assert model.inconsistent and np.all(draws == 0.5)


# ----------------------------------------------------------------------------- buffers
def _reference_batches(arrivals, deadlines, batch):
    """One buffer, event by event: the obvious implementation."""
    out, i, n = [], 0, len(arrivals)
    while i < n:
        members, earliest, j = [i], deadlines[i], i + 1
        while len(members) < batch and j < n and arrivals[j] <= earliest:
            members.append(j)
            earliest = min(earliest, deadlines[j])
            j += 1
        full = len(members) == batch
        out.append((i, len(members), arrivals[members[-1]] if full else earliest, not full))
        i = j
    return out


@given(
    gaps=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60),
    timeouts=st.lists(st.sampled_from([0.0, 0.05, 0.3, 0.7, 2.0]), min_size=60, max_size=60),
    batch=st.integers(1, 6),
)
def test_form_batches_matches_event_by_event_reference(gaps, timeouts, batch):
    """Tests that vectorised batch formation equals an event-by-event buffer."""
    arrivals = np.cumsum(gaps)
    deadlines = arrivals + np.asarray(timeouts[: len(arrivals)])
    got = form_batches(arrivals, deadlines, batch)
    expected = _reference_batches(arrivals, deadlines, batch)
    assert got.starts.tolist() == [e[0] for e in expected]
    assert got.sizes.tolist() == [e[1] for e in expected]
    assert got.flush_times.tolist() == [e[2] for e in expected]
    assert got.by_timeout.tolist() == [e[3] for e in expected]


def test_form_batches_flushes_at_earliest_deadline_of_any_member():
    """Tests that a later request with a shorter timeout triggers the flush."""
    arrivals = np.array([0.0, 0.1, 0.2, 1.0])
    deadlines = np.array([0.5, 0.15, 0.7, 1.5])
    got = form_batches(arrivals, deadlines, 4)
    assert got.sizes.tolist() == [2, 1, 1] and got.flush_times.tolist() == [0.15, 0.7, 1.5]
    assert got.by_timeout.tolist() == [True, True, True]
    full = form_batches(arrivals, deadlines + 10.0, 2)
    assert full.sizes.tolist() == [2, 2] and full.flush_times.tolist() == [0.1, 1.0]
    assert full.by_timeout.tolist() == [False, False]


# ----------------------------------------------------------------------------- engine
@pytest.fixture(scope="module")
def example_plans():
    problem = hbopt.example_problem()
    return {
        "harmony": hbopt.solve(problem, "harmony"),
        "mbs": hbopt.solve(problem, "mbs"),
        "batch": hbopt.solve(problem, "batch"),
        "batch-deterministic": hbopt.solve(problem, "batch", deterministic=True),
    }


def test_deterministic_batch_violates_slos_while_harmony_does_not(example_plans):
    """Tests that the BATCH plan made with average latency misses SLOs in simulation while
    the harmony plan (max latency) never does."""
    harmony = simulate(example_plans["harmony"], duration=3600, seed=1)
    assert harmony.requests > 100_000 and harmony.violations == 0
    deterministic = simulate(example_plans["batch-deterministic"], duration=3600, seed=1)
    assert deterministic.violations > 0
    assert deterministic.apps["app2"].violation_rate > 0.002


@pytest.mark.parametrize("name", ["harmony", "mbs", "batch"])
def test_feasible_plan_latency_never_exceeds_timeout_plus_l_max(example_plans, name):
    """Tests that every wait stays within the app's timeout and every realised GPU/CPU
    latency within the model's L_max, so a feasible plan meets every SLO."""
    plan = example_plans[name]
    report = simulate(plan, duration=600, seed=2)
    for group in report.groups:
        assert group.inference_max <= group.latency_max_model + 1e-12
    for group in plan.groups:
        for app in group.apps:
            assert report.waits[app].max() <= group.timeouts[app] + 1e-9
    assert all(stats.max <= stats.slo + 1e-9 for stats in report.apps.values())


def test_poisson_arrivals_match_planned_rates(example_plans):
    """Tests that each app sends about rate x duration requests (5 standard deviations)."""
    report = simulate(example_plans["harmony"], duration=1000, seed=3)
    for app in hbopt.example_problem().apps:
        expected = app.rate * 1000
        assert abs(report.apps[app.name].requests - expected) <= Z * math.sqrt(expected)


def test_single_app_with_batch_one_never_waits():
    """Tests that a b = 1 plan dispatches every request at once: no waiting at all."""
    plan = hbopt.solve(hbopt.Problem.build([("solo", 0.5, 5.0)], "vgg19"), "batch")
    assert plan.groups[0].batch == 1
    report = simulate(plan, duration=2000, seed=4)
    assert report.apps["solo"].requests > 9000
    assert report.waits["solo"].max() == 0.0 and report.apps["solo"].wait_max == 0.0
    assert report.groups[0].batch_histogram == {1: report.requests}


def test_full_cpu_batches_cost_eq6():
    """Tests that with every batch full the realised CPU cost per request matches Eq. 6,
    within the sampling error of the mean latency."""
    plan = hbopt.solve(hbopt.Problem.build([("busy", 2.0, 200.0)], "vgg19"), "batch")
    group = plan.groups[0]
    flushes = 20_000
    arrivals = {"busy": np.arange(group.batch * flushes) * 1e-4}
    report = simulate(plan, duration=10.0, seed=5, arrivals=arrivals)
    stats = report.groups[0]
    assert stats.batch_histogram == {group.batch: flushes} and stats.timeout_flushes == 0
    # Cost is affine in the duration with a fee, so its relative error is at most that of
    # the mean latency, whose standard deviation is at most half the support width.
    low = max(0.0, 2 * group.latency_avg - group.latency_max)
    tolerance = Z * (group.latency_max - low) / 2 / math.sqrt(flushes) / group.latency_avg
    assert stats.cost_per_request_predicted == pytest.approx(group.cost_per_request)
    assert report.cost_per_request_realised == pytest.approx(plan.cost_per_request, rel=tolerance)


def test_full_gpu_batches_cost_eq6_exactly_under_whole_second_billing():
    """Tests that full GPU batches billed in whole seconds cost exactly Eq. 6."""
    plan = hbopt.solve(hbopt.Problem.build([("busy", 1.0, 200.0)], "vgg19"), "harmony")
    group = plan.groups[0]
    assert group.function == "gpu" and group.latency_max < 1.0
    arrivals = {"busy": np.arange(group.batch * 5000) * 1e-4}
    report = simulate(plan, duration=10.0, seed=6, arrivals=arrivals)
    assert report.groups[0].batch_histogram == {group.batch: 5000}
    assert report.cost_per_request_realised == pytest.approx(plan.cost_per_request, rel=1e-12)


def test_split_app_parts_get_their_rates():
    """Tests that an app split across two groups (MBS+) sends each group its share."""
    problem = hbopt.example_problem()
    evaluator = problem.evaluator
    groups = equal_rate_groups(evaluator, 2)
    plan = evaluator.make_plan(
        [(g, provision_exact(evaluator, g, ("cpu", "gpu"))) for g in groups], method="mbs"
    )
    assert plan.is_feasible()
    report = simulate(plan, duration=2000, seed=7)
    assert abs(report.apps["app3"].requests - 40_000) <= Z * math.sqrt(40_000)
    for stats, group in zip(report.groups, plan.groups, strict=True):
        expected = group.rate * 2000
        assert abs(stats.requests - expected) <= Z * math.sqrt(expected)
    assert report.violations == 0


def test_seed_reproduces_and_noise_inflates(example_plans):
    """Tests that a seed reproduces a run exactly and that noise scales CPU latency."""
    plan = example_plans["batch"]
    first, again = simulate(plan, seed=8, duration=300), simulate(plan, seed=8, duration=300)
    assert first == again and np.array_equal(first.latencies["app1"], again.latencies["app1"])
    assert simulate(plan, seed=9, duration=300) != first
    noisy = simulate(plan, seed=8, duration=300, noise=1.5)
    # app1 has b = 1: no waiting, so latency is inference alone and scales exactly.
    assert np.allclose(noisy.latencies["app1"], 1.5 * first.latencies["app1"])
    assert noisy.violations > first.violations


def test_concurrency_limit_only_delays(example_plans):
    """Tests that a concurrency limit queues invocations: latencies grow, never shrink."""
    plan = example_plans["harmony"]
    free = simulate(plan, duration=300, seed=10)
    limited = simulate(plan, duration=300, seed=10, concurrency=1)
    for name in free.latencies:
        assert np.all(limited.latencies[name] >= free.latencies[name] - 1e-12)
    assert limited.groups[0].queue_mean > 0 and free.groups[0].queue_mean == 0


def test_report_json_has_documented_keys(example_plans):
    """Tests that the JSON report carries the keys the docs promise."""
    data = json.loads(simulate(example_plans["mbs"], duration=60).to_json())
    assert set(data["apps"]["app1"]) >= {"requests", "violation_rate", "p50", "p95", "p99", "max"}
    assert {"batch_histogram", "timeout_flush_share"} <= set(data["groups"][0])
    assert data["cost_per_request_predicted"] == example_plans["mbs"].cost_per_request
    assert data["cost_per_request_realised"] > 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"duration": 0}, "duration"),
        ({"duration": math.nan}, "duration"),
        ({"noise": -1.0}, "noise"),
        ({"seed": -3}, "seed"),
        ({"concurrency": 0}, "concurrency"),
        ({"arrivals": {"nope": np.zeros(3)}}, "'nope'"),
        ({"arrivals": {"app1": np.array([-1.0])}}, "app1"),
    ],
)
def test_simulate_rejects_bad_options(example_plans, options, message):
    """Tests that bad simulation options raise InputError naming the option."""
    with pytest.raises(hbopt.InputError, match=message):
        simulate(example_plans["harmony"], **options)


# ----------------------------------------------------------------------------- replay
def test_replay_sends_trace_counts_and_replans_every_minute():
    """Tests that trace replay sends each app its trace's counts (app i -> trace i mod 4)
    and makes one plan per minute."""
    slos = [0.5, 0.6, 0.7, 0.8, 1.0]
    report = replay_trace(slos, model="vgg19", method="harmony", minutes=3, seed=1)
    traces = [load_trace(f"azure_app{k}") for k in range(1, 5)]
    per_minute = sum(traces[i % 4][:3] for i in range(len(slos)))
    assert [m.requests for m in report.minutes] == per_minute.astype(int).tolist()
    assert report.apps["app5"].requests == int(traces[0][:3].sum())
    assert report.violations == 0 and all(m.status == "feasible" for m in report.minutes)
    assert report.cost_per_request_realised >= report.cost_per_request_predicted * 0.9


def test_replay_of_deterministic_batch_shows_violations():
    """Tests that replaying traces with the deterministic BATCH plans misses SLOs."""
    report = replay_trace(
        [0.3, 0.5, 0.8], method="batch", minutes=2, method_options={"deterministic": True}
    )
    assert report.violations > 0


# ----------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "harmony.json"
    assert main(["plan", "--json", str(path)]) == 0
    return path


def test_cli_simulate_plan_json_and_plot(plan_file, tmp_path, capsys):
    """Tests that `hbopt simulate --plan` writes the JSON report and a PNG latency CDF."""
    plot = tmp_path / "cdf.png"
    args = ["simulate", "--plan", str(plan_file), "--duration", "120", "--json", "-"]
    assert main([*args, "--plot", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["violations"] == 0 and set(data["apps"]) == {"app1", "app2", "app3"}
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_cli_simulate_prints_tables(plan_file, capsys):
    """Tests that the terminal report shows apps, groups and the cost comparison."""
    assert main(["simulate", "--plan", str(plan_file), "--duration", "60", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "requests/s" in out and "app3" in out and "predicted (Eq. 7)" in out


def test_cli_trace_replay_from_directory(tmp_path, capsys):
    """Tests `hbopt simulate --trace DIR`: app i uses file ((i-1) mod T)+1 of the directory."""
    (tmp_path / "a.csv").write_text("minute,requests\n0,120\n1,60\n")
    (tmp_path / "b.csv").write_text("minute,requests\n0,30\n1,0\n")
    args = ["simulate", "--trace", str(tmp_path), "--slos", "0.5,0.8,1.0", "--json", "-"]
    assert main([*args, "--method", "mbs"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["requests"] for m in data["minutes"]] == [270, 120]
    assert data["apps"]["app2"]["requests"] == 30 and data["apps"]["app3"]["requests"] == 180


def test_cli_trace_replay_bundled_prints_minutes(capsys):
    """Tests that the bundled trace replay prints a per-minute table and totals."""
    assert main(["simulate", "--trace", "bundled", "--slos", "0.5,1.0", "--minutes", "2"]) == 0
    out = capsys.readouterr().out
    assert "Trace replay" in out and "total:" in out


def _exit_status(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exc:  # argparse errors (e.g. an invalid --method choice)
        return int(exc.code)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --plan"),
        (["--plan", "missing.json"], "cannot read plan file"),
        (["--plan", "{plan}", "--duration", "-5"], "duration must be"),
        (["--plan", "{plan}", "--duration", "nan"], "duration must be"),
        (["--plan", "{plan}", "--noise", "0"], "noise must be"),
        (["--plan", "{plan}", "--seed", "-1"], "seed must be"),
        (["--plan", "{plan}", "--concurrency", "0"], "concurrency must be"),
        (["--plan", "{plan}", "--slos", "0.5"], "--slos only apply with --trace"),
        (["--plan", "{plan}", "--plot", "{tmp}/out.xyz"], "unknown image format 'xyz'"),
        (["--plan", "{plan}", "--plot", "-"], "--plot needs a file path"),
        (["--plan", "{plan}", "--json", "{tmp}/no/such/out.json"], "not a file path"),
        (["--plan", "{plan}", "--trace", "bundled"], "exactly one of --plan"),
        (["--plan", "{tmp}/bad.csv"], "plan is not valid JSON"),
        (["--trace", "bundled"], "--trace needs --slos"),
        (["--trace", "bundled", "--slos", "0.5,x"], "--slos item 'x'"),
        (["--trace", "bundled", "--slos", "0.5,-1"], "--slos item '-1'"),
        (["--trace", "bundled", "--slos", "0.5", "--minutes", "0"], "minutes must be"),
        (["--trace", "bundled", "--slos", "0.5", "--minutes", "999"], "exceeds the 120"),
        (["--trace", "bundled", "--slos", "0.001"], "cannot be met"),
        (["--trace", "bundled", "--slos", "0.5", "--duration", "5"], "--duration only"),
        (["--trace", "nope.csv", "--slos", "0.5"], "unknown trace 'nope.csv'"),
        (["--trace", "{tmp}/empty", "--slos", "0.5"], "holds no minute,requests"),
        (["--trace", "{tmp}/bad.csv", "--slos", "0.5"], "header must be minute,requests"),
        (["--trace", "bundled", "--slos", "0.5", "--method", "magic"], "invalid choice"),
        (["--trace", "bundled", "--slos", "0.5", "--model", "resnet"], "unknown model"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args, message, plan_file, tmp_path, capsys):
    """Tests that bad input gives exit status 2, one line on stderr and no output file."""
    (tmp_path / "bad.csv").write_text("time,count\n0,1\n")
    (tmp_path / "empty").mkdir()
    args = [a.format(plan=plan_file, tmp=tmp_path) for a in args]
    assert _exit_status(["simulate", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "empty"]


def test_expected_cost_tracks_realised_cost_of_partial_batches():
    """Tests that the evaluator's partial-batch estimate is closer to simulation than Eq. 7."""
    plan = hbopt.solve(hbopt.example_problem(), "single")
    report = hbopt.simulate(plan, duration=1800, seed=3)
    realised = report.cost_per_request_realised
    assert abs(plan.expected_cost_per_request / realised - 1) < 0.01
    assert abs(plan.cost_per_request / realised - 1) > 0.03
