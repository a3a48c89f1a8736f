"""`hbopt bench`: run a study or an instances file through several methods; write reports."""

from __future__ import annotations

import argparse
import math
import shlex

from rich.table import Table

from hbopt.cli.common import console
from hbopt.errors import InputError

__all__ = ["register"]


def _bench_command(args: argparse.Namespace) -> int:
    # Imported here so that `hbopt plan` works without the bench extra's packages.
    from hbopt.bench import load_study, parse_methods, read_instances, run_study, run_tasks
    from hbopt.bench.study import Task

    if args.time_limit is not None and not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise InputError(
            f"--time-limit must be a positive number of seconds, got {args.time_limit}"
        )
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed must be an integer >= 0, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    options = {
        "workers": args.workers or 1,
        "scheduler": args.scheduler,
        "progress": not args.no_progress,
        "plots": not args.no_plots,
        "info": {"command": "hbopt " + shlex.join(args.argv)},
    }
    if args.study is not None:
        study = load_study(args.study, seed=args.seed)
        methods = None if args.methods is None else [m.label for m in parse_methods(args.methods)]
        result = run_study(study, args.out, methods=methods, time_limit=args.time_limit, **options)
    else:
        if args.methods is None:
            raise InputError("--instances needs --methods (e.g. --methods harmony,mbs)")
        instances = read_instances(args.instances)
        tasks = [
            Task(instance, spec, args.time_limit, args.seed or 0)
            for instance in instances
            for spec in parse_methods(args.methods)
        ]
        result = run_tasks(tasks, args.out, **options)
    out = console()
    table = Table(title="Benchmark summary (gap to the best known bound or plan)")
    for column in ("method", "instances", "errors", "mean gap", "max gap", "optimal", "median s"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for s in result.summary:
        table.add_row(
            s["method"],
            str(s["instances"]),
            str(s["errors"] + s["infeasible"]),
            "–" if s["mean_gap"] is None else f"{s['mean_gap']:.2%}",
            "–" if s["max_gap"] is None else f"{s['max_gap']:.2%}",
            f"{s['optimal_share']:.0%}",
            "–" if s["median_time_s"] is None else f"{s['median_time_s']:.3g}",
        )
    out.print(table)
    out.print(
        f"{len(result.rows)} rows ({result.new_rows} new); wrote "
        f"{', '.join(str(p.relative_to(args.out)) for p in result.files)} in {args.out}",
        soft_wrap=True,
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    bench = commands.add_parser(
        "bench",
        help="run methods over benchmark instances; write CSV, JSON, summary and plots",
        description="Run a study (benchmarks/studies/NAME.toml or a TOML path) or an "
        "instances file through several methods. Rows are appended to OUT/rows.jsonl as "
        "they finish; running again with the same --out resumes.",
    )
    source = bench.add_mutually_exclusive_group(required=True)
    source.add_argument("--study", metavar="NAME|PATH", help="bundled study name or TOML path")
    source.add_argument("--instances", metavar="FILE", help="instances JSON or CSV file")
    bench.add_argument(
        "--methods",
        metavar="A,B,...",
        help="method labels to run (a study: a subset of its methods; default all of them)",
    )
    bench.add_argument("--time-limit", type=float, help="seconds per solve (default: the study's)")
    bench.add_argument(
        "--seed",
        type=int,
        help="seed for instance sampling and methods (default: the study's, else 0)",
    )
    where = bench.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, help="solve in parallel on a Dask LocalCluster of N processes"
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler")
    bench.add_argument("--out", required=True, metavar="DIR", help="output folder (resumable)")
    bench.add_argument("--no-plots", action="store_true", help="skip the plots")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(run=_bench_command)
