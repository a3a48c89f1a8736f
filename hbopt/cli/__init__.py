"""Command line: argument parsing and printing only; the model lives in the library.

Each subcommand is a module with a ``register(commands)`` function.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hbopt.cli import bench, export, fit, models, plan, simulate
from hbopt.cli.common import Parser
from hbopt.errors import HboptError

__all__ = ["build_parser", "main"]

SUBCOMMANDS = (plan, simulate, export, fit, models, bench)


def build_parser() -> Parser:
    """The ``hbopt`` argument parser with every subcommand."""
    parser = Parser(
        prog="hbopt",
        description="Cheapest SLO-meeting serverless plans for "
        "multi-SLO DNN inference (HarmonyBatch model).",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in SUBCOMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hbopt`` console script; exit status 2 on bad input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.run(args)
    except HboptError as exc:
        print(f"hbopt: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hbopt: interrupted", file=sys.stderr)
        return 130
