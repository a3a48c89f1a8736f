"""Exceptions raised by hbopt.

Every error a user can cause is an :class:`HboptError`; its message names the offending item
and says what would be valid, so the CLI can print it as one line.
"""

from __future__ import annotations


class HboptError(Exception):
    """Base class of every error hbopt raises on purpose."""


class InputError(HboptError, ValueError):
    """Bad input: a malformed file, an unknown name, a value out of range."""


class InfeasibleError(HboptError):
    """No configuration meets an app's SLO (or a group's constraints)."""


class SolverUnavailableError(HboptError):
    """A required optimisation solver is not installed."""
