"""`hbopt simulate`: simulate a saved plan, or replay request traces with per-minute planning."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hbopt.cli.common import console, write_bytes_atomic, write_text_atomic
from hbopt.errors import InputError
from hbopt.methods import METHODS
from hbopt.plan import Plan
from hbopt.pricing import PRESETS
from hbopt.simulate import ReplayReport, SimulationReport, replay_trace, simulate
from hbopt.simulate.report import AppStats, plot_formats, render_plot

__all__ = ["print_replay", "print_simulation", "register"]

_TRACE_ONLY = ("slos", "model", "method", "pricing", "minutes", "rate_scale", "margin")


def _seconds(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.3f}"


def _apps_table(apps: dict[str, AppStats]) -> Table:
    table = Table()
    for column in ("app", "SLO (s)", "requests", "violations", "rate", "p50", "p95", "p99"):
        table.add_column(column, justify="left" if column == "app" else "right")
    table.add_column("max (s)", justify="right")
    table.add_column("mean wait (s)", justify="right")
    for name, stats in apps.items():
        style = "red" if stats.violations else None
        table.add_row(
            name,
            f"{stats.slo:g}",
            str(stats.requests),
            str(stats.violations),
            f"{stats.violation_rate:.2%}",
            _seconds(stats.p50),
            _seconds(stats.p95),
            _seconds(stats.p99),
            _seconds(stats.max),
            _seconds(stats.wait_mean),
            style=style,
        )
    return table


def _change(realised: float, predicted: float) -> str:
    if not (math.isfinite(realised) and predicted > 0):
        return ""
    return f" ({realised / predicted - 1.0:+.1%})"


def print_simulation(report: SimulationReport, out: Console) -> None:
    """Print a simulation report: header, apps table, groups table, cost line."""
    out.print(
        f"Simulated the [bold]{report.method}[/] plan ({report.status}) for "
        f"[bold]{report.model}[/], pricing {report.pricing}: {report.duration_s:g} s of "
        f"arrivals, seed {report.seed}, noise {report.noise:g}"
        + (f", concurrency {report.concurrency}" if report.concurrency else "")
        + f"; {report.requests} requests in {report.wall_time_s:.3f} s "
        f"({report.requests_per_second:,.0f} requests/s)"
    )
    out.print(_apps_table(report.apps))
    currency = report.currency
    table = Table()
    for column in (
        "apps",
        "function",
        "batch",
        "flushes",
        "mean batch",
        "by timeout",
        "inference avg/max (s)",
        "model avg/max (s)",
        f"cost/request ({currency})",
        "predicted",
    ):
        table.add_column(column, justify="left" if column == "apps" else "right")
    for group in report.groups:
        resources = (
            f"GPU {group.gpu_memory_gb} GB"
            if group.function == "gpu"
            else f"CPU {group.vcpu:g} vCPU"
        )
        table.add_row(
            ",".join(group.apps),
            resources + (" [red](L_max < L_avg)[/]" if group.inconsistent_profile else ""),
            str(group.batch),
            str(group.flushes),
            f"{group.mean_batch:.2f}",
            f"{group.timeout_flush_share:.1%}",
            f"{_seconds(group.inference_mean)}/{_seconds(group.inference_max)}",
            f"{group.latency_avg_model:.3f}/{group.latency_max_model:.3f}",
            f"{group.cost_per_request_realised:.4e}",
            f"{group.cost_per_request_predicted:.4e}",
        )
    out.print(table)
    for group in report.groups:
        histogram = " ".join(f"{k}:{v}" for k, v in sorted(group.batch_histogram.items()))
        out.print(f"batch sizes (size:flushes) of {','.join(group.apps)}: {histogram or '-'}")
    out.print(
        f"violations: {report.violations} of {report.requests} requests "
        f"({report.violation_rate:.3%}); cost per request realised "
        f"{report.cost_per_request_realised:.4e} {currency}, predicted (Eq. 7) "
        f"{report.cost_per_request_predicted:.4e}"
        + _change(report.cost_per_request_realised, report.cost_per_request_predicted)
    )


def print_replay(report: ReplayReport, out: Console) -> None:
    """Print a trace-replay report: per-minute table, apps table, totals."""
    out.print(
        f"Trace replay with [bold]{report.method}[/] re-planning every minute for "
        f"[bold]{report.model}[/], pricing {report.pricing}, seed {report.seed}, noise "
        f"{report.noise:g}: {len(report.minutes)} minutes, {report.requests} requests in "
        f"{report.wall_time_s:.2f} s"
    )
    currency = report.currency
    table = Table()
    for column in (
        "minute",
        "requests",
        "violations",
        "rate",
        "plan",
        "status",
        f"cost/request ({currency})",
        "predicted",
    ):
        table.add_column(column, justify="left" if column == "plan" else "right")
    for minute in report.minutes:
        table.add_row(
            str(minute.minute),
            str(minute.requests),
            str(minute.violations),
            f"{minute.violation_rate:.2%}",
            minute.functions,
            minute.status,
            f"{minute.cost_per_request_realised:.4e}",
            f"{minute.cost_per_request_predicted:.4e}",
            style="red" if minute.violations else None,
        )
    out.print(table)
    out.print(_apps_table(report.apps))
    out.print(
        f"total: {report.violations} of {report.requests} requests violated their SLO "
        f"({report.violation_rate:.3%}); cost realised {report.cost_realised:.4f} {currency} "
        f"({report.cost_per_request_realised:.4e}/request), predicted "
        f"{report.cost_predicted:.4f} ({report.cost_per_request_predicted:.4e}/request)"
        + _change(report.cost_realised, report.cost_predicted)
    )


def _parse_slos(text: str) -> list[float]:
    slos = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise InputError(
                f"--slos item {item.strip()!r} is not a number: give seconds separated by "
                "commas, e.g. 0.3,0.4,0.5"
            ) from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"--slos item {item.strip()!r} must be a positive number of seconds")
        slos.append(value)
    return slos


def _trace_sources(items: list[str]) -> list[str | Path] | None:
    if items == ["bundled"]:
        return None
    if len(items) == 1 and Path(items[0]).is_dir():
        files = sorted(Path(items[0]).glob("*.csv"))
        if not files:
            raise InputError(f"trace directory {items[0]!r} holds no minute,requests .csv files")
        return list(files)
    return list(items)


def _check_outputs(args: argparse.Namespace) -> None:
    for flag, path in (("--json", args.json), ("--plot", args.plot)):
        if path is None or path == "-":
            continue
        target = Path(path)
        if target.is_dir() or not (target.parent if str(target.parent) else Path(".")).is_dir():
            raise InputError(f"{flag} {path!r}: not a file path in an existing directory")
    if args.plot is not None:
        if args.plot == "-":
            raise InputError("--plot needs a file path (e.g. latency.png), not -")
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        formats = plot_formats()
        if suffix not in formats:
            raise InputError(
                f"--plot {args.plot!r}: unknown image format {suffix or '(no suffix)'!r}; use "
                + ", ".join(f".{k}" for k in formats)
            )


def _simulate_command(args: argparse.Namespace) -> int:
    if (args.plan is None) == (args.trace is None):
        raise InputError("give exactly one of --plan PLAN.json or --trace DIR_OR_FILES")
    if args.plan is not None:
        given = [
            f"--{name.replace('_', '-')}" for name in _TRACE_ONLY if getattr(args, name) is not None
        ]
        given += ["--deterministic"] if args.deterministic else []
        given += ["--gpu-shares"] if args.gpu_shares else []
        given += ["--time-limit"] if args.time_limit is not None else []
        if given:
            raise InputError(f"{', '.join(given)} only apply with --trace (a plan file has them)")
    elif args.duration is not None:
        raise InputError("--duration only applies with --plan (a trace replay lasts --minutes)")
    if args.trace is not None and args.slos is None:
        raise InputError("--trace needs --slos: one SLO in seconds per app, e.g. 0.3,0.4,0.5")
    _check_outputs(args)

    report: SimulationReport | ReplayReport
    if args.plan is not None:
        plan = Plan.from_json(Path(args.plan))
        report = simulate(
            plan,
            duration=600.0 if args.duration is None else args.duration,
            seed=args.seed,
            noise=args.noise,
            concurrency=args.concurrency,
        )
    else:
        options = {"deterministic": True} if args.deterministic else {}
        report = replay_trace(
            _parse_slos(args.slos),
            _trace_sources(args.trace),
            model=args.model or "vgg19",
            method=args.method or "harmony",
            pricing=args.pricing or "alibaba-reference",
            minutes=args.minutes,
            seed=args.seed,
            noise=args.noise,
            rate_scale=1.0 if args.rate_scale is None else args.rate_scale,
            margin=1.0 if args.margin is None else args.margin,
            gpu_shares=args.gpu_shares,
            concurrency=args.concurrency,
            time_limit=args.time_limit,
            method_options=options,
        )
    if args.json is not None:
        write_text_atomic(args.json, report.to_json())
    if args.plot is not None:
        write_bytes_atomic(args.plot, render_plot(report.plot(), Path(args.plot).suffix))
    if args.json != "-":
        out = console()
        if isinstance(report, SimulationReport):
            print_simulation(report, out)
        else:
            print_replay(report, out)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand."""
    sim = commands.add_parser(
        "simulate",
        help="simulate a plan (SLO violations, realised cost) or replay request traces",
        description="Simulate a saved plan under Poisson arrivals (--plan), or replay "
        "per-minute request traces, re-planning every minute (--trace).",
    )
    source = sim.add_argument_group("what to simulate (exactly one)")
    source.add_argument("--plan", metavar="PLAN.json", help="a plan saved by `hbopt plan --json`")
    source.add_argument(
        "--trace",
        nargs="+",
        metavar="DIR_OR_FILES",
        help="'bundled' (the Azure traces), a directory of minute,requests CSV files, or the "
        "files themselves; app i uses trace ((i-1) mod T)+1",
    )
    sim.add_argument("--duration", type=float, help="--plan: seconds of arrivals (default 600)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--noise", type=float, default=1.0, help="factor on every latency (default 1.0)"
    )
    sim.add_argument(
        "--concurrency",
        type=int,
        help="at most this many concurrent invocations per group (default: unlimited)",
    )
    replay = sim.add_argument_group("trace replay (--trace)")
    replay.add_argument("--slos", help="one SLO per app in seconds, comma-separated")
    replay.add_argument("--model", help="bundled profile name or profile JSON (default vgg19)")
    replay.add_argument("--method", choices=sorted(METHODS), help="planning method (harmony)")
    replay.add_argument("--pricing", choices=list(PRESETS), help="default alibaba-reference")
    replay.add_argument("--minutes", type=int, help="replay the first K minutes (default: all)")
    replay.add_argument("--rate-scale", type=float, help="factor on every trace count")
    replay.add_argument("--margin", type=float, help="GPU max-latency margin (default 1.0)")
    replay.add_argument("--gpu-shares", action="store_true", help="use gpu/host shares of L0")
    replay.add_argument(
        "--deterministic", action="store_true", help="batch: plan with average latency"
    )
    replay.add_argument("--time-limit", type=float, help="seconds per plan (exact methods)")
    sim.add_argument("--json", metavar="PATH", help="write the report as JSON (- for stdout)")
    sim.add_argument("--plot", metavar="PATH", help="latency CDF per app (.png, .pdf, .svg)")
    sim.set_defaults(run=_simulate_command)
