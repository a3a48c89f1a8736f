"""Helpers shared by the subcommands: one-line errors, atomic writes, a console."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from hbopt.errors import InputError

__all__ = ["Parser", "console", "write_bytes_atomic", "write_text_atomic"]


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` (``-``: stdout) without leaving a half-written file."""
    if str(path) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    write_bytes_atomic(path, (text if text.endswith("\n") else text + "\n").encode())


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to the file ``path`` without leaving a half-written file."""
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write {str(target)!r}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write {str(target)!r}: {exc.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def console(stderr: bool = False) -> Console:
    """A rich console at least 120 columns wide (plans are wide tables)."""
    width = max(shutil.get_terminal_size((120, 24)).columns, 120)
    return Console(stderr=stderr, highlight=False, width=width)
