"""Per-minute request traces (Azure Functions style): ``minute,requests`` CSV files.

Bundled traces (``traces/`` in the repository, shipped with the package) drive the paper's
trace experiments: app ``i`` uses trace ``((i - 1) mod 4) + 1``.
"""

from __future__ import annotations

import csv
import math
from importlib import resources
from pathlib import Path

import numpy as np

from hbopt.errors import InputError

__all__ = ["bundled_traces", "load_trace", "read_trace"]


def _traces_folder() -> Path:
    # A wheel ships traces/ as hbopt/traces_data; a source checkout has it beside the package.
    installed = Path(str(resources.files("hbopt"))) / "traces_data"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "traces"


def bundled_traces() -> dict[str, Path]:
    """Names (``azure_app1`` ...) and paths of the bundled traces."""
    return {path.stem: path for path in sorted(_traces_folder().glob("*.csv"))}


def read_trace(path: str | Path) -> np.ndarray:
    """Requests per minute from a ``minute,requests`` CSV, as an array indexed by minute."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read trace {str(path)!r}: {exc}") from None
    if not rows or [h.strip() for h in rows[0]] != ["minute", "requests"]:
        raise InputError(f"trace {str(path)!r}: header must be minute,requests")
    counts = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            minute, requests = int(row[0]), float(row[1])
        except (ValueError, IndexError):
            raise InputError(
                f"trace {str(path)!r}, line {line}: expected minute,requests, got {row!r}"
            ) from None
        if minute != len(counts):
            raise InputError(
                f"trace {str(path)!r}, line {line}: minutes must run 0, 1, 2, ...; "
                f"got {minute} after {len(counts) - 1}"
            )
        if not math.isfinite(requests) or requests < 0:
            raise InputError(
                f"trace {str(path)!r}, line {line}: requests must be a finite "
                f"count >= 0, got {row[1]!r}"
            )
        counts.append(requests)
    if not counts:
        raise InputError(f"trace {str(path)!r} has no minutes")
    return np.asarray(counts)


def load_trace(name: str | Path) -> np.ndarray:
    """A bundled trace by name (``"azure_app1"``) or any trace file by path."""
    bundled = bundled_traces()
    if isinstance(name, str) and name in bundled:
        return read_trace(bundled[name])
    if not Path(name).is_file():
        raise InputError(
            f"unknown trace {str(name)!r}: use a bundled name "
            f"({', '.join(bundled)}) or a minute,requests CSV path"
        )
    return read_trace(name)
