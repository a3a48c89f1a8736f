"""Benchmark reports: gaps per instance, the per-method summary, CSV/JSON/Markdown files.

The gap of a row is ``(cost - reference) / cost``. The reference of an instance is the best
proven lower bound any method returned on it (a method's ``lower_bound``, or the cost of a
plan whose status is ``optimal``), and ``gap_basis`` is then ``lower_bound``; when no
method proved a bound, the reference is the cheapest feasible plan found and ``gap_basis``
is ``best_found``.

Lower bounds are over partitions of the apps (SPEC section 5). A plan that splits an app's
traffic over several groups (MBS+ does) lies outside that set and may legitimately undercut
the bound, so its gap can be negative. Any other plan below a proven bound means a method
claimed a bound it does not have; :func:`bound_violations` lists those.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hbopt.cli.common import write_text_atomic
from hbopt.pricing import PRESETS

__all__ = [
    "COLUMNS",
    "OPTIMAL_TOLERANCE",
    "SOLVED",
    "bound_violations",
    "build_rows",
    "machine",
    "summarize",
    "summary_markdown",
    "write_tables",
]

COLUMNS = (
    "instance",
    "model",
    "pricing",
    "n_apps",
    "method",
    "cost_per_request",
    "cost_per_hour",
    "gap",
    "gap_basis",
    "status",
    "solve_time_s",
    "n_groups",
    "n_gpu_groups",
    "n_split_apps",
    "tag",
    "total_rate",
    "lower_bound",
    "reference",
    "reference_by",
    "message",
)
"""Columns of ``results.csv``, in order."""

SOLVED = ("optimal", "feasible", "time_limit")
"""Statuses of rows that carry a feasible plan."""

OPTIMAL_TOLERANCE = 1e-6
"""A relative gap at most this counts as reaching the reference."""


def build_rows(raw: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the raw rows with ``gap``, ``gap_basis``, ``reference`` and ``reference_by``
    (the method whose bound or plan is the reference) filled in."""
    by_instance: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = [dict(r) for r in raw]
    for row in rows:
        by_instance[row["instance"]].append(row)
    for group in by_instance.values():
        solved = [r for r in group if r["status"] in SOLVED]
        bounds = [
            (r["lower_bound"], r["method"]) for r in solved if r.get("lower_bound") is not None
        ]
        bounds += [
            (r["cost_per_request"], r["method"])
            for r in solved
            if r["status"] == "optimal" and r.get("lower_bound") is None
        ]
        if bounds:
            (reference, by), basis = max(bounds, key=lambda b: b[0]), "lower_bound"
        elif solved:
            best = min(solved, key=lambda r: r["cost_per_request"])
            reference, by, basis = best["cost_per_request"], best["method"], "best_found"
        else:
            reference, by, basis = None, "", ""
        for row in group:
            row["reference"], row["reference_by"] = reference, by
            if row["status"] in SOLVED and reference is not None:
                cost = row["cost_per_request"]
                # Computed for optimal rows too: two "optimal" plans that disagree must show.
                row["gap"], row["gap_basis"] = (cost - reference) / cost, basis
            else:
                row["gap"], row["gap_basis"] = None, ""
    return rows


def bound_violations(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose plan keeps every app whole yet costs less than a proven lower bound
    (beyond :data:`OPTIMAL_TOLERANCE`): evidence that some method's bound is wrong."""
    return [
        r
        for r in rows
        if r.get("gap_basis") == "lower_bound"
        and r["gap"] < -OPTIMAL_TOLERANCE
        and not r.get("n_split_apps")
    ]


def _reaches(row: dict[str, Any]) -> bool:
    return row.get("gap") is not None and row["gap"] <= OPTIMAL_TOLERANCE


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method label, in first-seen order: counts, gap and time statistics.

    ``optimal_share`` is the share of the method's instances where its plan is proven
    optimal (status ``optimal``, or within :data:`OPTIMAL_TOLERANCE` of a proven lower
    bound); ``best_share`` the share where it matches the reference on either basis. Gap and
    time statistics are over the rows with a feasible plan.
    """
    by_method: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_method[row["method"]].append(row)
    out = []
    for method, group in by_method.items():
        solved = [r for r in group if r["status"] in SOLVED]
        gaps = [r["gap"] for r in solved if r["gap"] is not None]
        times = [r["solve_time_s"] for r in solved]
        worst = max(solved, key=lambda r: r["gap"] if r["gap"] is not None else -1, default=None)
        proven = [
            r
            for r in group
            if r["status"] == "optimal" or (r.get("gap_basis") == "lower_bound" and _reaches(r))
        ]
        out.append(
            {
                "method": method,
                "instances": len(group),
                "solved": len(solved),
                "errors": sum(r["status"] == "error" for r in group),
                "infeasible": sum(r["status"] == "infeasible" for r in group),
                "time_limit_hits": sum(r["status"] == "time_limit" for r in group),
                "split_plans": sum(bool(r.get("n_split_apps")) for r in solved),
                "gap_basis_lower_bound": sum(r.get("gap_basis") == "lower_bound" for r in solved),
                "mean_gap": statistics.fmean(gaps) if gaps else None,
                "median_gap": statistics.median(gaps) if gaps else None,
                "max_gap": max(gaps) if gaps else None,
                "optimal_share": len(proven) / len(group),
                "best_share": sum(_reaches(r) for r in group) / len(group),
                "median_time_s": statistics.median(times) if times else None,
                "max_time_s": max(times) if times else None,
                "worst_instance": worst["instance"] if worst and worst["gap"] else "",
            }
        )
    return out


def _percent(value: float | None) -> str:
    # Adding 0.0 turns a rounded -0.0 (float noise below zero) into 0.0.
    return "–" if value is None else f"{round(100 * value, 2) + 0.0:.2f}%"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def setting_table(
    rows: Sequence[dict[str, Any]], column: str = "cost_per_request"
) -> tuple[list[str], list[list[str]]]:
    """Per (tag, model, pricing, number of apps) and method: the mean cost per request (``column=
    "cost_per_request"``) or the mean and max gap (``column="gap"``), over solved rows.

    A cell covers only the instances the method solved; ``(k/n)`` marks a partial cell.
    """
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cells: dict[tuple[str, ...], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    instances: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for row in rows:
        key = (row.get("tag", ""), row["model"], row["pricing"], str(row["n_apps"]))
        instances[key].add(row["instance"])
        if row["status"] in SOLVED and row.get(column) is not None:
            cells[key][row["method"]].append(row[column])
    header = ["tag", "model", "pricing", "apps", "instances", *methods]
    body = []
    for key, count in ((k, len(v)) for k, v in instances.items()):
        line = [*key, str(count)]
        for method in methods:
            values = cells[key].get(method, [])
            if not values:
                text = "–"
            elif column == "gap":
                text = f"{_percent(statistics.fmean(values))} ({_percent(max(values))})"
            else:
                text = f"{statistics.fmean(values):.4e}"
            if values and len(values) < count:
                text += f" ({len(values)}/{count})"
            line.append(text)
        body.append(line)
    return header, body


def _markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(lines)


def summary_markdown(
    rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], meta: dict[str, Any]
) -> str:
    """The Markdown report: settings, the per-method table and mean costs."""
    instances = {r["instance"] for r in rows}
    with_bound = {r["instance"] for r in rows if r.get("gap_basis") == "lower_bound"}
    title = meta.get("study") or "instances file"
    parts = [f"# Benchmark summary: {title}", ""]
    if meta.get("command"):
        parts += [f"Command: `{meta['command']}`", ""]
    settings = meta.get("settings", {})
    host = meta.get("machine", {})
    parts += [
        f"{len(rows)} rows over {len(instances)} instances; time limits "
        f"{settings.get('time_limits') or 'none'} s; seeds {settings.get('seeds')}; "
        f"workers {settings.get('workers')}.",
        f"Machine: {host.get('cpu')}, {host.get('nproc')} CPUs, Python {host.get('python')}.",
        f"Gap basis: a proven lower bound on {len(with_bound)} of {len(instances)} instances; "
        f"the best plan found on {len(instances) - len(with_bound)}.",
        "",
    ]
    if meta.get("interrupted"):
        parts += ["**Interrupted run: the rows below are partial.**", ""]
    violations = bound_violations(rows)
    if violations:
        parts += [
            f"**Bound check failed: {len(violations)} plan(s) keeping every app whole cost "
            "less than a proven lower bound** (a method's bound or optimality claim is wrong):",
            "",
            *(
                f"- `{r['instance']}`: {r['method']}'s plan costs {r['cost_per_request']:.6e}, "
                f"below the bound {r['reference']:.6e} of {r['reference_by']} "
                f"(gap {_percent(r['gap'])})"
                for r in violations[:20]
            ),
            "",
        ]
    else:
        parts += [
            "Bound check passed: no plan that keeps every app whole costs less than a "
            "proven lower bound.",
            "",
        ]
    header = [
        "method",
        "instances",
        "errors",
        "mean gap",
        "median gap",
        "max gap",
        "optimal",
        "best known",
        "median time (s)",
        "max time (s)",
        "worst instance",
    ]
    body = [
        [
            s["method"],
            str(s["instances"]),
            str(s["errors"] + s["infeasible"]),
            _percent(s["mean_gap"]),
            _percent(s["median_gap"]),
            _percent(s["max_gap"]),
            _percent(s["optimal_share"]),
            _percent(s["best_share"]),
            _seconds(s["median_time_s"]),
            _seconds(s["max_time_s"]),
            f"`{s['worst_instance']}`" if s["worst_instance"] else "–",
        ]
        for s in summary
    ]
    parts += [
        _markdown_table(header, body),
        "",
        "*optimal*: share of instances with a proven-optimal plan; *best known*: share "
        "matching the best bound or plan known; errors count failed and infeasible solves. "
        "Plans that split an app over groups (MBS+) can have negative gaps against a "
        "partition bound.",
        "",
        "## Mean gap (max gap) per setting",
        "",
        _markdown_table(*setting_table(rows, "gap")),
        "",
        "## Mean cost per request per setting",
        "",
        _markdown_table(*setting_table(rows)),
        "",
    ]
    currencies = sorted(
        {f"{p}: {PRESETS[p].currency}" for p in {r["pricing"] for r in rows} if p in PRESETS}
    )
    if currencies:
        parts += [f"Currencies: {', '.join(currencies)}.", ""]
    return "\n".join(parts)


def _csv_text(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    return buffer.getvalue()


def machine() -> dict[str, Any]:
    """The machine a run used: CPU count and model, Python, platform, library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy

    import hbopt

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hbopt": hbopt.__version__,
        "numpy": numpy.__version__,
    }


def write_tables(rows: Sequence[dict[str, Any]], folder: Path, meta: dict[str, Any]) -> list[Path]:
    """Write ``results.csv``, ``results.json``, ``summary.md`` and ``run.json``."""
    summary = summarize(rows)
    meta = {**meta, "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    files = {
        "results.csv": _csv_text(rows),
        "results.json": json.dumps(
            {**meta, "summary": summary, "rows": list(rows)}, indent=1, default=str
        ),
        "summary.md": summary_markdown(rows, summary, meta),
        "run.json": json.dumps(meta, indent=2, default=str),
    }
    for name, text in files.items():
        write_text_atomic(folder / name, text)
    return [folder / name for name in files]
