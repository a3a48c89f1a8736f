"""`hbopt plan`: plan a problem with one method and print or save the plan."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from hbopt.cli.common import console, write_text_atomic
from hbopt.methods import METHODS
from hbopt.plan import Group, Plan
from hbopt.pricing import PRESETS
from hbopt.problem import EXAMPLE_APPS, Problem
from hbopt.solve import solve

__all__ = ["print_plan", "register"]


def _app_label(plan: Plan, group: Group, name: str) -> str:
    """The app's name, with its share of the rate when a method split it across groups."""
    full = plan.problem.apps[plan.problem.app_index(name)].rate
    part = group.app_rates[name]
    return name if part >= full * (1 - 1e-12) else f"{name} ({part:g} of {full:g} req/s)"


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
        if column == "apps":
            table.add_column(column, overflow="fold", min_width=12)
        else:
            table.add_column(column, justify="right")
    for group in plan.groups:
        resources = (
            f"{group.gpu_memory_gb} GB GPU"
            if group.function == "gpu"
            else f"{group.vcpu:g} vCPU, {group.memory_gb:g} GB"
        )
        timeouts = " ".join(f"{group.timeouts[a]:.3f}" for a in group.apps)
        table.add_row(
            ",".join(_app_label(plan, group, name) for name in group.apps),
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
    if plan.expected_cost_per_request is not None:
        line += (
            f"\n  with partial batches (timeouts flush before b requests): expected "
            f"{plan.expected_cost_per_request:.4e} {currency}/request"
        )
    if plan.gap is not None:
        line += f"; gap {plan.gap:.2%} (lower bound {plan.lower_bound:.4e})"
    console.print(line)
    violations = plan.score().violations
    for violation in violations:
        console.print(f"[red]violated:[/] {violation}")


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
    out = console(stderr=args.json == "-")
    if args.apps is None:
        apps = ", ".join(f"{a.name} (SLO {a.slo:g} s, {a.rate:g} req/s)" for a in EXAMPLE_APPS)
        out.print(f"No --apps given: planning the bundled example (paper Table I): {apps}.")
    if args.json is not None:
        write_text_atomic(args.json, plan.to_json())
    if args.json != "-":
        print_plan(plan, out)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``plan`` subcommand."""
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
