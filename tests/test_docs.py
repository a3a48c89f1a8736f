"""Tests that the documentation site builds with --strict and that its Python examples run."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))


def test_docs_build_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install '.[docs]'")
    for plugin in ("material", "mkdocstrings", "mkdocs_jupyter", "jupytext"):
        pytest.importorskip(plugin, reason=f"{plugin} is not installed: pip install '.[docs]'")
    site = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**env, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-4000:]
    print(f"mkdocs build --strict took {elapsed:.1f} s")
    for page in ("index", "model", "heuristic", "pricing", "profiles", "fitting", "cli", "api"):
        assert (site / page / "index.html").exists() or page == "index"
    home = (site / "index.html").read_text()
    assert "harmony" in home and "<!-- hbopt:" not in home  # the example table was generated
    cli = (site / "cli" / "index.html").read_text()
    assert "--measurements" in cli and "--max-batch-per-gb" in cli
    api = (site / "api" / "index.html").read_text()
    assert "synthetic_measurements" in api and "provision_fast" in api
    for tutorial in ("plan-example", "heuristic-vs-optimum", "fit-a-profile"):
        html = (site / "tutorials" / tutorial / "index.html").read_text()
        assert "jp-RenderedImage" in html, f"{tutorial}: no figure was rendered"
        assert "Traceback" not in html


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.stem)
def test_python_examples_in_pages_run(page, capsys):
    namespace: dict = {"__name__": "__docs__"}
    for block in python_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)
    assert capsys.readouterr().out.strip()


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in PAGES:
        assert f" {page.name}" in nav, f"{page.name} is missing from mkdocs.yml's nav"
    for tutorial in (ROOT / "docs" / "tutorials").glob("*.py"):
        assert f"tutorials/{tutorial.name}" in nav
