"""Benchmark plots (matplotlib, Agg backend), each written as PNG and SVG.

- ``cost_by_model``: mean cost per request per method, one panel per pricing and model
  (paper Fig. 11 style).
- ``time_vs_apps``: solve time against the number of apps per method, log axes (paper
  Table IV, extended to a scaling curve).
- ``gaps``: distribution of the gap per method.
- ``merging``: cost after each merge of methods that record a merge ``history`` (harmony),
  relative to the plan before merging, with the best known cost dashed (paper Fig. 13).
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from hbopt.bench.report import SOLVED
from hbopt.pricing import PRESETS

__all__ = ["PLOT_FUNCTIONS", "cost_by_model", "gaps", "merging", "time_vs_apps", "write_plots"]

Rows = Sequence[dict[str, Any]]

# Marker per merging stage of a harmony history (0: every app alone).
STAGE_MARKERS = {0: "o", 1: "^", 2: "s"}


def _colors(rows: Rows) -> dict[str, Any]:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    palette = plt.get_cmap("tab10")
    return {m: palette(i % 10) for i, m in enumerate(methods)}


def _currency(pricing: str) -> str:
    return PRESETS[pricing].currency if pricing in PRESETS else "currency"


def cost_by_model(rows: Rows) -> Figure | None:
    """Bars of mean cost per request by method; a panel per (pricing, model)."""
    solved = [r for r in rows if r["status"] in SOLVED]
    if not solved:
        return None
    colors = _colors(rows)
    methods = list(colors)
    pricings = list(dict.fromkeys(r["pricing"] for r in solved))
    models = list(dict.fromkeys(r["model"] for r in solved))
    figure, axes = plt.subplots(
        len(pricings),
        len(models),
        figsize=(2.2 + 2.0 * len(models), 2.8 * len(pricings)),
        squeeze=False,
        constrained_layout=True,
    )
    for i, pricing in enumerate(pricings):
        for j, model in enumerate(models):
            ax = axes[i][j]
            costs = defaultdict(list)
            for r in solved:
                if r["pricing"] == pricing and r["model"] == model:
                    costs[r["method"]].append(r["cost_per_request"])
            shown = [m for m in methods if costs[m]]
            means = [statistics.fmean(costs[m]) for m in shown]
            low = [mean - min(costs[m]) for m, mean in zip(shown, means, strict=True)]
            high = [max(costs[m]) - mean for m, mean in zip(shown, means, strict=True)]
            ax.bar(
                range(len(shown)),
                means,
                yerr=[low, high],
                color=[colors[m] for m in shown],
                capsize=2,
                error_kw={"linewidth": 0.8},
            )
            ax.set_xticks(range(len(shown)), shown, rotation=45, ha="right", fontsize=8)
            ax.set_title(f"{model} ({pricing})", fontsize=9)
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
            if j == 0:
                ax.set_ylabel(f"cost per request ({_currency(pricing)})")
    figure.suptitle("Mean cost per request\n(whiskers: min to max over instances)", fontsize=10)
    return figure


def time_vs_apps(rows: Rows) -> Figure | None:
    """Median solve time against the number of apps, a line per method, min-max band."""
    solved = [r for r in rows if r["status"] in SOLVED and r["solve_time_s"] > 0]
    if not solved:
        return None
    colors = _colors(rows)
    figure, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    for method, color in colors.items():
        times = defaultdict(list)
        for r in solved:
            if r["method"] == method:
                times[r["n_apps"]].append(r["solve_time_s"])
        if not times:
            continue
        sizes = sorted(times)
        ax.plot(
            sizes,
            [statistics.median(times[n]) for n in sizes],
            marker="o",
            markersize=3,
            color=color,
            label=method,
        )
        ax.fill_between(
            sizes,
            [min(times[n]) for n in sizes],
            [max(times[n]) for n in sizes],
            color=color,
            alpha=0.15,
            linewidth=0,
        )
    sizes = sorted({r["n_apps"] for r in solved})
    if sizes[-1] >= 10 * sizes[0]:
        ax.set_xscale("log")
    if len(sizes) <= 12:
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yscale("log")
    ax.set_xlabel("number of apps")
    ax.set_ylabel("solve time (s)")
    ax.set_title("Solve time (median; band: min to max)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def gaps(rows: Rows) -> Figure | None:
    """Box plot (with the points) of each method's gap in percent."""
    colors = _colors(rows)
    values = {
        m: [100 * r["gap"] for r in rows if r["method"] == m and r.get("gap") is not None]
        for m in colors
    }
    methods = [m for m in colors if values[m]]
    if not methods:
        return None
    bases = {r["gap_basis"] for r in rows if r.get("gap") is not None}
    basis = " / ".join(sorted(bases))
    figure, ax = plt.subplots(figsize=(1.6 + 1.0 * len(methods), 4.2), constrained_layout=True)
    ax.boxplot([values[m] for m in methods], showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)
    for i, m in enumerate(methods, start=1):
        jitter = rng.uniform(-0.15, 0.15, len(values[m]))
        ax.scatter(i + jitter, values[m], s=6, color=colors[m], alpha=0.6, zorder=3)
    ax.set_xticks(range(1, len(methods) + 1), methods, rotation=30, ha="right")
    ax.set_ylabel("gap (%)")
    ax.set_title(f"Gap to the reference cost ({basis})", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    return figure


def merging(rows: Rows) -> Figure | None:
    """Cost after each merge relative to the unmerged plan; a line per model, a panel per
    pricing; for each instance shown, the best known cost relative to the same start is
    dashed. The first instance of each (model, pricing) with a history is shown."""
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r["status"] in SOLVED and r.get("history"):
            chosen.setdefault((r["pricing"], r["model"]), r)
    if not chosen:
        return None
    pricings = list(dict.fromkeys(p for p, _ in chosen))
    models = list(dict.fromkeys(m for _, m in chosen))
    palette = plt.get_cmap("tab10")
    figure, axes = plt.subplots(
        1, len(pricings), figsize=(5.2 * len(pricings), 4.0), squeeze=False, constrained_layout=True
    )
    for ax, pricing in zip(axes[0], pricings, strict=True):
        for k, model in enumerate(models):
            row = chosen.get((pricing, model))
            if row is None:
                continue
            history = row["history"]
            start = history[0]["cost"]
            costs = [h["cost"] / start for h in history]
            color = palette(k % 10)
            groups = history[-1]["groups"]
            ax.plot(
                range(len(costs)),
                costs,
                color=color,
                label=f"{model} ({row['method']}, {groups} group{'s' if groups != 1 else ''})",
            )
            for stage, marker in STAGE_MARKERS.items():
                steps = [i for i, h in enumerate(history) if h["stage"] == stage]
                ax.scatter(steps, [costs[i] for i in steps], color=color, marker=marker, s=14)
            if row.get("reference"):
                ax.axhline(row["reference"] / start, color=color, linestyle="--", linewidth=0.8)
        ax.set_xlabel("merges accepted (○ start, ▲ stage 1, ■ stage 2)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("cost / cost of every app alone")
        ax.set_title(f"Cost as merging proceeds ({pricing}); dashed: best known", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return figure


PLOT_FUNCTIONS: dict[str, Callable[[Rows], Figure | None]] = {
    "cost_by_model": cost_by_model,
    "time_vs_apps": time_vs_apps,
    "gaps": gaps,
    "merging": merging,
}
"""Every plot by name (the names a study's ``[plots]`` table selects tags for)."""


def _save(figure: Figure, target: Path) -> None:
    """Save atomically; fixed metadata and hash salt make reruns byte-stable."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    os.close(handle)
    try:
        metadata = {"Date": None} if target.suffix == ".svg" else {"Software": None}
        with matplotlib.rc_context({"svg.hashsalt": "hbopt"}):
            figure.savefig(temporary, dpi=150, metadata=metadata)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_plots(rows: Rows, folder: Path, tags: dict[str, Sequence[str]]) -> list[Path]:
    """Draw every plot that has data into ``folder`` (``NAME.png`` and ``NAME.svg``).

    ``tags[NAME]`` restricts plot ``NAME`` to rows whose instance tag is listed (absent or
    empty: all rows).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PLOT_FUNCTIONS.items():
        wanted = tags.get(name)
        selected = [r for r in rows if r.get("tag") in wanted] if wanted else list(rows)
        figure = draw(selected)
        if figure is None:
            # A plot an earlier run drew but this one has no data for would be stale.
            for suffix in (".png", ".svg"):
                (folder / f"{name}{suffix}").unlink(missing_ok=True)
            continue
        try:
            for suffix in (".png", ".svg"):
                _save(figure, folder / f"{name}{suffix}")
                written.append(folder / f"{name}{suffix}")
        finally:
            plt.close(figure)
    return written
