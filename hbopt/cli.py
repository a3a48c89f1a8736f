"""Command line: argument parsing and printing only; the model lives in the library."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.table import Table

from hbopt.errors import HboptError, InputError
from hbopt.methods import METHODS
from hbopt.plan import Plan
from hbopt.pricing import PRESETS
from hbopt.problem import EXAMPLE_APPS, Problem
from hbopt.solve import solve

__all__ = ["main", "print_plan", "write_text_atomic"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` (``-``: stdout) without leaving a half-written file."""
    if str(path) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write {str(target)!r}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text if text.endswith("\n") else text + "\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def print_plan(plan: Plan, console: Console) -> None:
    """Print a plan as a header and a table of groups."""
    currency = plan.problem.pricing.currency
    console.print(
        f"[bold]{plan.method}[/] plan for [bold]{plan.model}[/] "
        f"({len(plan.problem.apps)} apps, {plan.problem.total_rate:g} req/s), "
        f"pricing {plan.pricing}: status [bold]{plan.status.value}[/]"
    )
    table = Table(show_lines=False)
    for column in (
        "apps",
        "function",
        "resources",
        "batch",
        "timeouts (s)",
        "latency avg/max (s)",
        "rate (req/s)",
        f"cost/request ({currency})",
    ):
        table.add_column(column, justify="left" if column == "apps" else "right")
    for group in plan.groups:
        resources = (
            f"{group.gpu_memory_gb} GB GPU"
            if group.function == "gpu"
            else f"{group.vcpu:g} vCPU, {group.memory_gb:g} GB"
        )
        timeouts = " ".join(f"{group.timeouts[a]:.3f}" for a in group.apps)
        table.add_row(
            ",".join(group.apps),
            group.function.upper(),
            resources,
            str(group.batch),
            timeouts,
            f"{group.latency_avg:.3f} / {group.latency_max:.3f}",
            f"{group.rate:g}",
            f"{group.cost_per_request:.4e}",
        )
    console.print(table)
    line = (
        f"cost: {plan.cost_per_request:.4e} {currency}/request, "
        f"{plan.cost_per_hour:.4f} {currency}/hour; solved in {plan.solve_time_s:.3f} s"
    )
    if plan.gap is not None:
        line += f"; gap {plan.gap:.2%} (lower bound {plan.lower_bound:.4e})"
    console.print(line)
    violations = plan.score().violations
    for violation in violations:
        console.print(f"[red]violated:[/] {violation}")


def _width() -> int:
    return max(shutil.get_terminal_size((120, 24)).columns, 120)


def _plan_command(args: argparse.Namespace) -> int:
    options = {}
    if args.provisioning is not None:
        options["provisioning"] = args.provisioning
    if args.force_stage1:
        options["force_stage1"] = True
    if args.deterministic:
        options["deterministic"] = True
    problem = Problem.build(
        args.apps, args.model, args.pricing, margin=args.margin, gpu_shares=args.gpu_shares
    )
    plan = solve(problem, args.method, time_limit=args.time_limit, **options)
    console = Console(stderr=args.json == "-", highlight=False, width=_width())
    if args.apps is None:
        apps = ", ".join(f"{a.name} (SLO {a.slo:g} s, {a.rate:g} req/s)" for a in EXAMPLE_APPS)
        console.print(f"No --apps given: planning the bundled example (paper Table I): {apps}.")
    if args.json is not None:
        write_text_atomic(args.json, plan.to_json())
    if args.json != "-":
        print_plan(plan, console)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``hbopt`` argument parser."""
    parser = _Parser(prog="hbopt", description=__doc__.split(":")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    plan = commands.add_parser("plan", help="plan the cheapest SLO-meeting functions")
    plan.add_argument(
        "--model",
        default="vgg19",
        help="bundled profile name or profile JSON path (default: vgg19)",
    )
    plan.add_argument("--apps", help="CSV (name,slo,rate) or JSON list; default: the example")
    plan.add_argument("--method", default="harmony", choices=sorted(METHODS))
    plan.add_argument("--pricing", default="alibaba-reference", choices=list(PRESETS))
    plan.add_argument(
        "--margin",
        type=float,
        default=1.0,
        help="GPU max-latency safety margin for m < M (1.2: public implementation)",
    )
    plan.add_argument(
        "--gpu-shares",
        action="store_true",
        help="use the profile's gpu_share/host_share split of L0",
    )
    plan.add_argument(
        "--provisioning", choices=["fast", "exact"], help="funcProvision variant (harmony, mbs)"
    )
    plan.add_argument(
        "--force-stage1", action="store_true", help="harmony: always accept stage-1 merges"
    )
    plan.add_argument(
        "--deterministic",
        action="store_true",
        help="batch: check SLOs with average latency (BATCH's assumption)",
    )
    plan.add_argument("--time-limit", type=float, help="seconds (exact methods)")
    plan.add_argument("--json", metavar="PATH", help="write the plan as JSON (- for stdout)")
    plan.set_defaults(run=_plan_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hbopt`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except HboptError as exc:
        message = " ".join(str(exc).split())
        print(f"hbopt: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hbopt: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
