"""MkDocs hooks: fill generated sections of the pages from the code they document.

A page asks for a section with an HTML comment on a line of its own:

* ``<!-- hbopt:help plan -->``: the ``--help`` text of a subcommand (``hbopt`` alone: the
  top-level help);
* ``<!-- hbopt:models -->``: the bundled profiles as a table;
* ``<!-- hbopt:presets -->``: the pricing presets as a table;
* ``<!-- hbopt:example-costs -->``: every registered method's plan for the paper's example.

The docstrings use Sphinx cross-reference roles (``:func:`name```); the API page shows them
as plain code.

The docs describe the source tree they are built from, so the hooks import ``hbopt`` from
this checkout, and executed tutorials (run in a Jupyter kernel) get it on ``PYTHONPATH``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# MkDocs restores sys.path after loading a hook, so import the package now.
sys.path.insert(0, str(ROOT))
import hbopt  # noqa: E402  (its submodules then come from this checkout too)

del sys.path[0]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)

DIRECTIVE = re.compile(r"^<!-- hbopt:([a-z-]+)(?: ([a-z]+))? -->$", re.MULTILINE)


def _help(command: str | None) -> str:
    from hbopt.cli import build_parser

    parser = build_parser()
    if command:
        parser = parser._subparsers._group_actions[0].choices[command]
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "96"
    try:
        text = parser.format_help()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return f"```text\n{text.rstrip()}\n```"


def _models() -> str:
    from hbopt.cli.models import headline
    from hbopt.profile import bundled_profiles, load_profile

    lines = [
        "| name | model | CPU batch sizes | GPU | xi1, xi2 (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in bundled_profiles():
        p = load_profile(name)
        lines.append(
            f"| `{name}` | {headline(p.description)} | "
            f"{', '.join(map(str, p.cpu.batch_sizes))} | "
            f"{p.gpu.device}, {p.gpu.total_memory_gb} GB, slice {p.gpu.time_slice_s * 1000:g} ms "
            f"| {p.gpu.xi1:.4g}, {p.gpu.xi2:.4g} |"
        )
    return "\n".join(lines)


def _presets() -> str:
    from hbopt.pricing import PRESETS

    lines = [
        "| preset | function | vCPU /s | memory /GB-s | GPU memory /GB-s | per invocation "
        "| billed duration rounded to |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, pricing in PRESETS.items():
        for kind in ("cpu", "gpu"):
            b = getattr(pricing, kind)
            rounding = f"{b.granularity_s:g} s" if b.granularity_s else "not rounded"
            lines.append(
                f"| `{name}` ({pricing.currency}) | {kind.upper()} | {b.vcpu_per_s:g} | "
                f"{b.memory_gb_per_s:g} | {b.gpu_memory_gb_per_s:g} | {b.per_invocation:g} "
                f"| {rounding} |"
            )
    return "\n".join(lines)


def _example_costs() -> str:
    problem = hbopt.example_problem()
    currency = problem.pricing.currency
    lines = [
        f"| method | cost ({currency}/hour) | groups |",
        "| --- | ---: | --- |",
    ]
    for method in sorted(hbopt.METHODS):
        with contextlib.redirect_stdout(io.StringIO()):  # solvers may print banners
            plan = hbopt.solve(problem, method, time_limit=60)
        groups = "; ".join(
            f"{'+'.join(g.apps)}: {g.function.upper()} "
            + (f"{g.gpu_memory_gb} GB" if g.function == "gpu" else f"{g.vcpu:g} vCPU")
            + f", batch {g.batch}"
            for g in plan.groups
        )
        lines.append(f"| `{method}` | {plan.cost_per_hour:.4f} | {groups} |")
    return "\n".join(lines)


SECTIONS = {
    "help": _help,
    "models": lambda _: _models(),
    "presets": lambda _: _presets(),
    "example-costs": lambda _: _example_costs(),
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Replace every ``<!-- hbopt:... -->`` line with the section it names."""

    def fill(match: re.Match) -> str:
        name, argument = match.group(1), match.group(2)
        if name not in SECTIONS:
            raise ValueError(f"{page.file.src_path}: unknown hbopt section {name!r}")
        return SECTIONS[name](argument)

    return DIRECTIVE.sub(fill, markdown)


ROLE = re.compile(r":(?:func|class|meth|attr|data|mod|exc|obj):<code>(~?)([^<]*)</code>")


def on_page_content(html: str, page, config, files) -> str:
    """Render Sphinx roles left in docstrings (``:func:`x```) as code; ``~a.b`` shows ``b``."""
    return ROLE.sub(
        lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>",
        html,
    )
