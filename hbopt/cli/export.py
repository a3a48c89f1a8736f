"""`hbopt export`: write the exact method's MILP as an LP or MPS file."""

from __future__ import annotations

import argparse

from hbopt.cli.common import console
from hbopt.methods.exact import ExactModel
from hbopt.pricing import PRESETS
from hbopt.problem import Problem

__all__ = ["register"]


def _export_command(args: argparse.Namespace) -> int:
    problem = Problem.build(
        args.apps, args.model, args.pricing, margin=args.margin, gpu_shares=args.gpu_shares
    )
    model = ExactModel.build(problem)
    model.write(args.path, args.format)
    summary = model.summary()
    console(stderr=True).print(
        f"wrote {args.path}: {summary['variables']} binary variables (of "
        f"{summary['candidate_groups']} candidate groups), {summary['constraints']} "
        "constraints; objective in units of the incumbent's cost "
        f"{summary['incumbent']:.6e} {problem.pricing.currency}/request"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    export = commands.add_parser("export", help="write the exact MILP as LP or MPS")
    export.add_argument("--model", default="vgg19", help="bundled profile name or JSON path")
    export.add_argument("--apps", help="CSV (name,slo,rate) or JSON list; default: the example")
    export.add_argument("--pricing", default="alibaba-reference", choices=list(PRESETS))
    export.add_argument("--margin", type=float, default=1.0)
    export.add_argument("--gpu-shares", action="store_true")
    export.add_argument("--format", choices=["lp", "mps"], default="lp")
    export.add_argument("path", help="output file")
    export.set_defaults(run=_export_command)
