"""The planning problem: apps + profile + pricing + grids, frozen once built (SPEC section 1).

Methods only ever see a :class:`Problem`; file formats stop at :func:`read_apps` and
:func:`hbopt.profile.load_profile`.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hbopt.errors import InputError
from hbopt.pricing import Pricing, get_pricing
from hbopt.profile import Profile, load_profile

if TYPE_CHECKING:
    from hbopt.evaluator import Evaluator

__all__ = [
    "EXAMPLE_APPS",
    "App",
    "Grids",
    "Problem",
    "app_from_mapping",
    "example_problem",
    "read_apps",
]


@dataclass(frozen=True)
class App:
    """An inference application: Poisson requests at ``rate`` req/s, latency SLO ``slo`` s."""

    name: str
    slo: float
    rate: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"app name {self.name!r} must be a non-empty string")
        for key in ("slo", "rate"):
            value = getattr(self, key)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value <= 0:
                unit = "seconds" if key == "slo" else "requests/s"
                raise InputError(
                    f"app {self.name!r}: {key} must be a positive finite number of {unit}, "
                    f"got {value!r}"
                )
            object.__setattr__(self, key, float(value))


# The paper's illustrative example (Table I): three VGG-19 apps.
EXAMPLE_APPS: tuple[App, ...] = (
    App("app1", slo=0.5, rate=5.0),
    App("app2", slo=0.8, rate=10.0),
    App("app3", slo=1.0, rate=20.0),
)


def _vcpu_grid() -> tuple[float, ...]:
    return tuple(round(0.05 * k, 2) for k in range(1, 321))


@dataclass(frozen=True)
class Grids:
    """Resource and batch grids searched by every method (SPEC section 2 defaults).

    ``gpu_memory_gb=None`` means 1 .. the GPU's total memory; ``cpu_batches=None`` means the
    batch sizes the profile covers.
    """

    vcpu: tuple[float, ...] = field(default_factory=_vcpu_grid)
    gpu_memory_gb: tuple[int, ...] | None = None
    cpu_batches: tuple[int, ...] | None = None
    gpu_batches: tuple[int, ...] = tuple(range(1, 33))


@dataclass(frozen=True)
class Problem:
    """A frozen planning problem. Build it once; every method and the evaluator read it.

    Parameters
    ----------
    apps : tuple of App
        The applications; names must be unique.
    profile : Profile
        The DNN profile (latency and memory coefficients).
    pricing : Pricing or str
        Billing model (a :class:`~hbopt.pricing.Pricing` or a preset name).
    margin : float
        Safety factor on GPU max latency when ``m < M`` (1.0 = Eq. 4; 1.2 = the paper's
        public implementation).
    gpu_shares : bool
        Use the profile's ``gpu_share``/``host_share`` split of L0 (opt-in).
    grids : Grids
        Resource and batch grids.
    deterministic_latency : bool
        Check SLOs with average instead of max latency (the BATCH baseline's assumption;
        plans made under it can violate SLOs).
    """

    apps: tuple[App, ...]
    profile: Profile
    pricing: Pricing
    margin: float = 1.0
    gpu_shares: bool = False
    grids: Grids = field(default_factory=Grids)
    deterministic_latency: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "apps", tuple(self.apps))
        object.__setattr__(self, "pricing", get_pricing(self.pricing))
        if not self.apps:
            raise InputError("the app list is empty: give at least one app (name, slo, rate)")
        seen: set[str] = set()
        for app in self.apps:
            if not isinstance(app, App):
                raise InputError(f"apps must be App objects, got {app!r}")
            if app.name in seen:
                raise InputError(f"duplicate app name {app.name!r}: app names must be unique")
            seen.add(app.name)
        if not (isinstance(self.margin, (int, float)) and math.isfinite(self.margin)) or not (
            self.margin >= 1.0
        ):
            raise InputError(f"margin must be a finite number >= 1.0, got {self.margin!r}")
        if self.gpu_shares and self.profile.gpu.gpu_share is None:
            raise InputError(
                f"gpu_shares needs a profile with gpu.gpu_share and gpu.host_share; "
                f"{self.profile.name!r} has none"
            )
        self.evaluator.check_apps_meetable()

    @classmethod
    def build(
        cls,
        apps: Iterable[App] | Iterable[tuple[str, float, float]] | str | Path | None = None,
        model: str | Path | Profile = "vgg19",
        pricing: str | Pricing = "alibaba-reference",
        **options: Any,
    ) -> Problem:
        """Convenience builder: apps as App objects, ``(name, slo, rate)`` tuples or a file
        path (None: the bundled example); model as bundled name, path or Profile."""
        if apps is None:
            app_list: tuple[App, ...] = EXAMPLE_APPS
        elif isinstance(apps, (str, Path)):
            app_list = read_apps(apps)
        else:
            app_list = tuple(a if isinstance(a, App) else App(*a) for a in apps)
        profile = model if isinstance(model, Profile) else load_profile(model)
        return cls(apps=app_list, profile=profile, pricing=get_pricing(pricing), **options)

    def replace(self, **changes: Any) -> Problem:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @cached_property
    def evaluator(self) -> Evaluator:
        """The one evaluator that owns the model for this problem."""
        from hbopt.evaluator import Evaluator

        return Evaluator(self)

    @property
    def total_rate(self) -> float:
        """Sum of all apps' rates (req/s)."""
        return sum(app.rate for app in self.apps)

    def app_index(self, name: str) -> int:
        """Position of the app called ``name``."""
        for i, app in enumerate(self.apps):
            if app.name == name:
                return i
        raise InputError(f"unknown app {name!r}: the problem has {[a.name for a in self.apps]}")


def example_problem(**options: Any) -> Problem:
    """The paper's Table I example: three VGG-19 apps under the default pricing."""
    return Problem.build(EXAMPLE_APPS, "vgg19", **options)


_COLUMNS = ("name", "slo", "rate")


def read_apps(path: str | Path) -> tuple[App, ...]:
    """Read apps from a CSV (header ``name,slo,rate``) or a JSON list of such objects."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read apps file {str(path)!r}: {exc}") from None
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"apps file {str(path)!r} is not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise InputError(
                f"apps file {str(path)!r}: expected a JSON list of objects "
                "with keys name, slo, rate"
            )
        return _apps_from_rows(rows, str(path), first_row=0)
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in _COLUMNS if c not in header]
    extra = [c for c in header if c not in _COLUMNS]
    if missing or extra:
        raise InputError(
            f"apps file {str(path)!r}: header must be name,slo,rate"
            + (f"; missing {','.join(missing)}" if missing else "")
            + (f"; unexpected {','.join(extra)}" if extra else "")
        )
    reader.fieldnames = header
    return _apps_from_rows(list(reader), str(path), first_row=2)


def app_from_mapping(row: Any, where: str) -> App:
    """An :class:`App` from a ``{"name", "slo", "rate"}`` mapping (numbers may be strings,
    as in a CSV row); errors start with ``where``."""
    if not isinstance(row, dict) or any(row.get(c) in (None, "") for c in _COLUMNS):
        raise InputError(f"{where}: needs name, slo and rate, got {row!r}")
    extra = [k for k in row if k not in _COLUMNS]
    if extra:
        raise InputError(f"{where}: unexpected keys {extra}; allowed: name, slo, rate")
    values = {}
    for key in ("slo", "rate"):
        value = row[key]
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise InputError(f"{where}: {key} {row[key]!r} is not a number") from None
        values[key] = value
    try:
        return App(str(row["name"]).strip(), **values)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _apps_from_rows(rows: Sequence[Any], source: str, first_row: int) -> tuple[App, ...]:
    apps = tuple(
        app_from_mapping(row, f"{source}, {'line' if first_row else 'item'} {i}")
        for i, row in enumerate(rows, start=first_row)
    )
    if not apps:
        raise InputError(f"apps file {source!r} lists no apps: give at least one")
    return apps
