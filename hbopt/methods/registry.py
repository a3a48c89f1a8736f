"""The method registry: every planning method under one name and one signature.

A method is ``method(problem, *, time_limit=None, seed=0, **options) -> Plan``; it builds its
plan with ``problem.evaluator.make_plan`` so that every plan is priced by the same model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hbopt.plan import Plan
from hbopt.problem import Problem

__all__ = ["METHODS", "Method", "register"]


class Method(Protocol):
    """The signature every planning method has."""

    def __call__(
        self, problem: Problem, *, time_limit: float | None = None, seed: int = 0, **options: Any
    ) -> Plan: ...


METHODS: dict[str, Method] = {}


def register(name: str) -> Callable[[Method], Method]:
    """Decorator: make ``method`` available to :func:`hbopt.solve` as ``name``."""

    def decorate(method: Method) -> Method:
        METHODS[name] = method
        return method

    return decorate
