"""Plans: groups of apps, each with one function configuration; JSON round trip.

A plan carries the problem it solves, so it can always be re-scored by the evaluator
(:meth:`Plan.score`) and a plan file is self-contained (apps, profile, pricing, settings).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hbopt.errors import InputError
from hbopt.pricing import FunctionBilling, Pricing, Sizing
from hbopt.problem import App, Grids, Problem
from hbopt.profile import Profile

if TYPE_CHECKING:
    from hbopt.evaluator import Score

__all__ = ["Group", "Plan", "Status"]


class Status(str, enum.Enum):
    """How good a plan is known to be."""

    OPTIMAL = "optimal"
    """Proven optimal (gap 0)."""
    FEASIBLE = "feasible"
    """Meets every constraint; optimality not proven (heuristics)."""
    TIME_LIMIT = "time_limit"
    """A solver stopped at its time limit; feasible plan with a proven gap."""
    INFEASIBLE = "infeasible"
    """The plan violates a constraint under the evaluator (see ``Plan.score()``)."""


@dataclass(frozen=True)
class Group:
    """One function serving a group of apps.

    ``vcpu`` is the function's vCPU (for a GPU function, the vCPU that comes with it);
    ``gpu_memory_gb`` is 0 for a CPU function. ``app_rates`` is each app's rate in this
    group (its full rate unless a method splits the app). Latencies are seconds;
    ``cost_per_request`` is Eq. 6 (full batches); ``expected_batch`` and
    ``expected_cost_per_request`` estimate the batch size and cost when timeouts flush
    partial batches (see :meth:`hbopt.evaluator.Evaluator.expected_batch`).
    """

    apps: tuple[str, ...]
    app_rates: dict[str, float]
    function: str
    vcpu: float
    memory_gb: float
    gpu_memory_gb: int
    batch: int
    timeouts: dict[str, float]
    latency_avg: float
    latency_max: float
    rate: float
    cost_per_request: float
    expected_batch: float | None = None
    expected_cost_per_request: float | None = None

    def __post_init__(self) -> None:
        if self.function not in ("cpu", "gpu"):
            raise InputError(f"group function must be 'cpu' or 'gpu', got {self.function!r}")
        if not self.apps:
            raise InputError("a group must hold at least one app")
        if set(self.app_rates) != set(self.apps) or set(self.timeouts) != set(self.apps):
            raise InputError(
                f"group {list(self.apps)}: app_rates and timeouts must name "
                "exactly the group's apps"
            )
        if not isinstance(self.batch, int) or self.batch < 1:
            raise InputError(f"group {list(self.apps)}: batch must be an integer >= 1")
        for name in ("vcpu", "memory_gb", "latency_avg", "latency_max", "rate", "cost_per_request"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InputError(f"group {list(self.apps)}: {name} must be finite and >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "apps": list(self.apps),
            "function": self.function,
            "vcpu": self.vcpu,
            "memory_gb": self.memory_gb,
            "gpu_memory_gb": self.gpu_memory_gb,
            "batch": self.batch,
            "timeouts": dict(self.timeouts),
            "latency_avg": self.latency_avg,
            "latency_max": self.latency_max,
            "rate": self.rate,
            "app_rates": dict(self.app_rates),
            "cost_per_request": self.cost_per_request,
            "expected_batch": self.expected_batch,
            "expected_cost_per_request": self.expected_cost_per_request,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Group:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                apps=tuple(data["apps"]),
                app_rates={k: float(v) for k, v in data["app_rates"].items()},
                function=data["function"],
                vcpu=float(data["vcpu"]),
                memory_gb=float(data["memory_gb"]),
                gpu_memory_gb=int(data["gpu_memory_gb"]),
                batch=int(data["batch"]),
                timeouts={k: float(v) for k, v in data["timeouts"].items()},
                latency_avg=float(data["latency_avg"]),
                latency_max=float(data["latency_max"]),
                rate=float(data["rate"]),
                cost_per_request=float(data["cost_per_request"]),
                expected_batch=_optional_float(data.get("expected_batch")),
                expected_cost_per_request=_optional_float(data.get("expected_cost_per_request")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"malformed plan group {data!r}: {exc!r}") from None


@dataclass(frozen=True)
class Plan:
    """A solution: groups with their functions, the Eq. 7 cost and how it was found.

    ``cost_per_request`` is Eq. 7 (average cost per request), ``cost_per_hour`` is that
    times the total rate times 3600. ``lower_bound`` is a proven lower bound on the optimum
    (exact methods) and ``gap`` the relative distance to it. ``expected_cost_per_request``
    is the evaluator's estimate when timeouts flush partial batches (Eq. 7 assumes full
    ones); it is reported, not optimised.
    """

    problem: Problem
    method: str
    status: Status
    groups: tuple[Group, ...]
    cost_per_request: float
    cost_per_hour: float
    solve_time_s: float = 0.0
    lower_bound: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    expected_cost_per_request: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "groups", tuple(self.groups))
        if not self.groups:
            raise InputError("a plan must have at least one group")

    @property
    def model(self) -> str:
        """Name of the DNN profile."""
        return self.problem.profile.name

    @property
    def pricing(self) -> str:
        """Name of the pricing."""
        return self.problem.pricing.name

    @property
    def gap(self) -> float | None:
        """Relative optimality gap ``(cost - lower_bound) / cost`` (None without a bound)."""
        if self.lower_bound is None:
            return None
        if self.status is Status.OPTIMAL:
            return 0.0
        return max(0.0, (self.cost_per_request - self.lower_bound) / self.cost_per_request)

    def score(self) -> Score:
        """Re-score the plan with the problem's evaluator."""
        return self.problem.evaluator.score(self)

    def is_feasible(self) -> bool:
        """True when the evaluator finds no violated constraint."""
        return self.score().feasible

    def with_(self, **changes: Any) -> Plan:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (see docs for the schema)."""
        problem = self.problem
        return {
            "method": self.method,
            "model": self.model,
            "pricing": self.pricing,
            "currency": problem.pricing.currency,
            "status": self.status.value,
            "cost_per_request": self.cost_per_request,
            "cost_per_hour": self.cost_per_hour,
            "expected_cost_per_request": self.expected_cost_per_request,
            "solve_time_s": self.solve_time_s,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "groups": [g.to_dict() for g in self.groups],
            "extras": self.extras,
            "problem": _problem_to_dict(problem),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """The plan as JSON text; also written to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict):
            raise InputError("a plan must be a JSON object")
        missing = [
            k
            for k in ("method", "status", "groups", "cost_per_request", "problem")
            if k not in data
        ]
        if missing:
            raise InputError(f"plan is missing keys {missing}")
        try:
            status = Status(data["status"])
        except ValueError:
            names = ", ".join(s.value for s in Status)
            raise InputError(f"plan status {data['status']!r} is not one of {names}") from None
        problem = _problem_from_dict(data["problem"])
        return cls(
            problem=problem,
            method=str(data["method"]),
            status=status,
            groups=tuple(Group.from_dict(g) for g in data["groups"]),
            cost_per_request=float(data["cost_per_request"]),
            cost_per_hour=float(data.get("cost_per_hour", 0.0)),
            solve_time_s=float(data.get("solve_time_s", 0.0)),
            lower_bound=data.get("lower_bound"),
            extras=dict(data.get("extras") or {}),
            expected_cost_per_request=_optional_float(data.get("expected_cost_per_request")),
        )

    @classmethod
    def from_json(cls, source: str | Path) -> Plan:
        """Read a plan from a JSON file path or JSON text."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            try:
                text = Path(source).read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read plan file {str(source)!r}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"plan is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _problem_to_dict(problem: Problem) -> dict[str, Any]:
    return {
        "apps": [{"name": a.name, "slo": a.slo, "rate": a.rate} for a in problem.apps],
        "profile": problem.profile.to_dict(),
        "pricing": dataclasses.asdict(problem.pricing),
        "margin": problem.margin,
        "gpu_shares": problem.gpu_shares,
        "grids": dataclasses.asdict(problem.grids),
    }


def _problem_from_dict(data: Any) -> Problem:
    try:
        pricing = dict(data["pricing"])
        sizing = dict(pricing.pop("sizing"))
        ratio = sizing.get("memory_per_vcpu_gb")
        sizing["memory_per_vcpu_gb"] = tuple(ratio) if ratio is not None else None
        pricing_obj = Pricing(
            cpu=FunctionBilling(**pricing.pop("cpu")),
            gpu=FunctionBilling(**pricing.pop("gpu")),
            sizing=Sizing(**sizing),
            **pricing,
        )
        grids = {k: (tuple(v) if v is not None else None) for k, v in data.get("grids", {}).items()}
        return Problem(
            apps=tuple(App(**a) for a in data["apps"]),
            profile=Profile.from_dict(data["profile"], source="plan profile"),
            pricing=pricing_obj,
            margin=float(data.get("margin", 1.0)),
            gpu_shares=bool(data.get("gpu_shares", False)),
            grids=Grids(**grids),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"plan has a malformed 'problem' section: {exc!r}") from None
