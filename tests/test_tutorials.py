"""Tests that every tutorial runs top to bottom as a script and draws its figures."""

import runpy
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the tutorials draw with matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TUTORIALS = sorted((Path(__file__).parents[1] / "docs" / "tutorials").glob("*.py"))
FIGURES = {
    "plan-example.py": 3,
    "heuristic-vs-optimum.py": 1,
    "fit-a-profile.py": 2,
    "simulate-a-plan.py": 2,
}


def test_every_tutorial_is_listed():
    assert sorted(t.name for t in TUTORIALS) == sorted(FIGURES)


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
@pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")
def test_tutorial_runs_and_draws(script, capsys):
    plt.close("all")
    try:
        namespace = runpy.run_path(str(script), run_name="__main__")
        assert len(plt.get_fignums()) == FIGURES[script.name]
    finally:
        plt.close("all")
    assert capsys.readouterr().out.strip(), "a tutorial prints what it finds"
    assert namespace  # ran to the end without raising


def test_tutorials_are_jupytext_percent_notebooks():
    jupytext = pytest.importorskip("jupytext", reason="jupytext reads the tutorials as notebooks")
    for script in TUTORIALS:
        notebook = jupytext.read(script)
        kinds = {cell.cell_type for cell in notebook.cells}
        assert kinds == {"markdown", "code"}, script.name
        assert notebook.cells[0].cell_type == "markdown"
        assert notebook.cells[0].source.startswith("# Tutorial"), script.name
