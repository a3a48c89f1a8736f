"""`hbopt fit`: fit a profile from latency measurements (the paper's model profiler)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hbopt.cli.common import console, write_bytes_atomic, write_text_atomic
from hbopt.fit import FitResult, ProfileDefaults, fit_profile, plot_fit

__all__ = ["print_report", "register"]

DEFAULTS = ProfileDefaults()


def print_report(result: FitResult, console: Console) -> None:
    """Print the goodness of fit: one row per fitted curve and per GPU batch size."""
    table = Table(title=f"fit of profile {result.profile.name!r}")
    for column in ("curve", "batch", "points", "samples", "coefficients", "R²", "max rel. error"):
        table.add_column(column, justify="left" if column in ("curve", "coefficients") else "right")
    for row in result.report():
        coefficients = row["coefficients"]
        table.add_row(
            row["curve"],
            str(row["batch"]),
            str(row["points"]),
            "" if row["samples"] is None else str(row["samples"]),
            "" if coefficients is None else ", ".join(f"{v:.5g}" for v in coefficients),
            "" if row["r2"] is None else f"{row['r2']:.5f}",
            f"{row['max_relative_error']:.2%}",
        )
    console.print(table)


def _fit_command(args: argparse.Namespace) -> int:
    defaults = ProfileDefaults(
        device=args.device,
        total_memory_gb=args.total_memory_gb,
        time_slice_s=args.time_slice,
        max_batch_per_gb=args.max_batch_per_gb,
        host_memory_mb=args.host_memory_mb,
        memory_per_batch_mb=args.memory_per_batch_mb,
        memory_base_mb=args.memory_base_mb,
    )
    name = args.name or (Path(args.out).stem if args.out != "-" else None)
    result = fit_profile(
        args.measurements, name=name, description=args.description, defaults=defaults
    )
    png = None
    if args.plot is not None:
        buffer = io.BytesIO()
        plot_fit(result).savefig(buffer, format="png", dpi=110)
        png = buffer.getvalue()
    # Everything is computed before anything is written: bad input leaves no file behind.
    write_text_atomic(args.out, json.dumps(result.profile.to_dict(), indent=2))
    if png is not None:
        write_bytes_atomic(args.plot, png)
    out = console(stderr=args.out == "-")
    print_report(result, out)
    if args.out != "-":
        out.print(f"wrote profile {args.out}; plan with: hbopt plan --model {args.out}")
    if args.plot is not None:
        out.print(f"wrote plot {args.plot}")
    return 0


def _number(kind: type, minimum: float, strict: bool):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value != value or (value <= minimum if strict else value < minimum):
            relation = ">" if strict else ">="
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'} {relation} {minimum:g}, "
                f"got {text!r}"
            )
        return value

    return parse


def _batch_limits(text: str) -> tuple[int, ...]:
    if not text.strip():
        return ()
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = (-1,)
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= 0 (largest batch per GB), got {text!r}"
        )
    return values


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``fit`` subcommand."""
    fit = commands.add_parser(
        "fit",
        help="fit a profile from latency measurements",
        description="Fit Eq. 1 (CPU avg and max, per batch size) and Eq. 2 (whole-GPU line) "
        "from a CSV of rows function,batch,vcpu,latency_s and write a profile JSON that "
        "hbopt plan --model reads. GPU rows are whole-GPU measurements; their vcpu column is "
        "ignored and may be empty.",
    )
    fit.add_argument("--measurements", required=True, metavar="FILE", help="measurements CSV")
    fit.add_argument(
        "--out", required=True, metavar="PROFILE.json", help="profile to write (- for stdout)"
    )
    fit.add_argument("--plot", metavar="PNG", help="draw the fitted curves over the points")
    fit.add_argument("--name", help="profile name (default: the --out file's stem)")
    fit.add_argument("--description", help="one-line description of the model")
    gpu = fit.add_argument_group(
        "fields the measurements do not determine (defaults: an A10 as in the bundled profiles)"
    )
    gpu.add_argument("--device", default=DEFAULTS.device, help="GPU name (default: %(default)s)")
    gpu.add_argument(
        "--total-memory-gb",
        type=_number(int, 1, strict=False),
        default=DEFAULTS.total_memory_gb,
        metavar="GB",
        help="GPU memory M in GB, that of the whole-GPU rows (default: %(default)s)",
    )
    gpu.add_argument(
        "--time-slice",
        type=_number(float, 0, strict=True),
        default=DEFAULTS.time_slice_s,
        metavar="SECONDS",
        help="GPU time slice tau of Eq. 4 (default: %(default)s)",
    )
    gpu.add_argument(
        "--max-batch-per-gb",
        type=_batch_limits,
        default=DEFAULTS.max_batch_per_gb,
        metavar="B1,B2,...",
        help="largest batch that fits in 1, 2, ... GB of GPU memory (Eq. 8); "
        "default: empty, 1 GB fits every batch",
    )
    gpu.add_argument(
        "--host-memory-mb",
        type=_number(float, 0, strict=False),
        default=DEFAULTS.host_memory_mb,
        metavar="MB",
        help="host memory of a GPU function (default: %(default)s)",
    )
    gpu.add_argument(
        "--memory-per-batch-mb",
        type=_number(float, 0, strict=False),
        default=DEFAULTS.memory_per_batch_mb,
        metavar="MB",
        help="CPU function memory per request of a batch (default: %(default)s)",
    )
    gpu.add_argument(
        "--memory-base-mb",
        type=_number(float, 0, strict=False),
        default=DEFAULTS.memory_base_mb,
        metavar="MB",
        help="CPU function base memory (default: %(default)s)",
    )
    fit.set_defaults(run=_fit_command)
