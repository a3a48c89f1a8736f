"""Benchmark instances and their sources: the paper's setups, synthetic families, files.

An :class:`Instance` is a named, picklable recipe for a :class:`~hbopt.problem.Problem`
(apps, model, pricing, margin). Every source is deterministic: the same arguments, seed
included, give the same instances, and instance ``k`` of a synthetic family does not depend
on how many instances are drawn.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hbopt.errors import HboptError, InputError
from hbopt.problem import EXAMPLE_APPS, App, Problem, app_from_mapping
from hbopt.traces import load_trace

__all__ = [
    "FAMILIES",
    "PAPER_SLOS",
    "PAPER_TRACES",
    "Instance",
    "paper_scenarios",
    "read_instances",
    "synthetic",
    "table1",
]

# The paper's SLO lists (SPEC section 10): the public configuration's list for VGG-19 and
# BERT, and the longer one for the slower VideoMAE and GPT-2.
PAPER_SLOS: dict[str, tuple[float, ...]] = {
    "vgg19": tuple(round(0.3 + 0.1 * k, 2) for k in range(8)),
    "bert": tuple(round(0.3 + 0.1 * k, 2) for k in range(8)),
    "videomae": tuple(round(1.0 + 0.2 * k, 2) for k in range(8)),
    "gpt2": tuple(round(1.0 + 0.2 * k, 2) for k in range(8)),
}

# App i of a paper scenario replays trace ((i - 1) mod 4) + 1.
PAPER_TRACES: tuple[str, ...] = ("azure_app1", "azure_app2", "azure_app3", "azure_app4")


@dataclass(frozen=True)
class Instance:
    """One benchmark problem: a unique ``name``, the apps and the planning settings.

    ``model`` is a bundled profile name or a profile path; ``tag`` names the experiment the
    instance belongs to (``"table1"``, ``"fig11"``, ``"uniform"`` ...), used to select rows
    for plots.
    """

    name: str
    apps: tuple[App, ...]
    model: str = "vgg19"
    pricing: str = "alibaba-reference"
    margin: float = 1.0
    tag: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "apps", tuple(self.apps))
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"instance name {self.name!r} must be a non-empty string")

    @property
    def n_apps(self) -> int:
        """Number of apps."""
        return len(self.apps)

    @property
    def total_rate(self) -> float:
        """Sum of the apps' rates (req/s)."""
        return sum(app.rate for app in self.apps)

    def problem(self) -> Problem:
        """Build the planning problem; any error names this instance."""
        try:
            return Problem.build(self.apps, self.model, self.pricing, margin=self.margin)
        except HboptError as exc:
            raise InputError(f"instance {self.name!r}: {exc}") from None

    def fingerprint(self) -> str:
        """A short hash of everything that defines the problem (not the name or tag)."""
        data = self.to_dict()
        del data["name"], data["tag"]
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the format :func:`read_instances` reads)."""
        return {
            "name": self.name,
            "model": self.model,
            "pricing": self.pricing,
            "margin": self.margin,
            "tag": self.tag,
            "apps": [{"name": a.name, "slo": a.slo, "rate": a.rate} for a in self.apps],
        }


def _as_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def table1(
    pricings: str | Iterable[str] = "alibaba-reference", *, margin: float = 1.0, tag: str = "table1"
) -> list[Instance]:
    """The paper's illustrative example (Table I): three VGG-19 apps, once per pricing."""
    return [
        Instance(f"{tag}/vgg19/{pricing}", EXAMPLE_APPS, "vgg19", pricing, margin, tag)
        for pricing in _as_tuple(pricings)
    ]


def _pick_minutes(length: int, minutes: int | Sequence[int] | None, seed: int) -> list[int]:
    if minutes is None:
        return list(range(length))
    if isinstance(minutes, int) and not isinstance(minutes, bool):
        if not 1 <= minutes <= length:
            raise InputError(f"minutes: a sample of {minutes} minutes needs 1..{length}")
        rng = np.random.default_rng([seed, zlib.crc32(b"minutes"), length])
        return sorted(int(m) for m in rng.choice(length, size=minutes, replace=False))
    picked = list(minutes)
    for m in picked:
        if isinstance(m, bool) or not isinstance(m, int) or not 0 <= m < length:
            raise InputError(f"minutes: {m!r} is not a minute of the traces (0..{length - 1})")
    return picked


def paper_scenarios(
    models: str | Iterable[str] = tuple(PAPER_SLOS),
    pricings: str | Iterable[str] = "alibaba-reference",
    *,
    n_apps: int = 8,
    minutes: int | Sequence[int] | None = None,
    seed: int = 0,
    slos: Sequence[float] | None = None,
    traces: Sequence[str | Path] = PAPER_TRACES,
    margin: float = 1.0,
    tag: str = "paper",
) -> list[Instance]:
    """The paper's per-model scenarios (Fig. 11): ``n_apps`` apps with rates from traces.

    App ``i`` (1-based) gets SLO ``slos[(i - 1) mod len(slos)]`` (the paper's list for the
    model unless ``slos`` is given) and replays trace ``((i - 1) mod len(traces)) + 1``; its
    rate in a minute is that minute's requests / 60. An app with no requests in a minute is
    left out of that minute's instance.

    ``minutes``: ``None`` for one instance per trace minute, an int for a seeded sample of
    that many distinct minutes, or a list of minutes.
    """
    if isinstance(n_apps, bool) or not isinstance(n_apps, int) or n_apps < 1:
        raise InputError(f"n_apps must be an integer >= 1, got {n_apps!r}")
    series = [load_trace(t) for t in traces]
    if not series:
        raise InputError("traces: give at least one trace")
    length = min(len(s) for s in series)
    picked = _pick_minutes(length, minutes, seed)
    width = len(str(length - 1))
    out = []
    for model in _as_tuple(models):
        model_slos = tuple(slos) if slos is not None else PAPER_SLOS.get(str(model))
        if not model_slos:
            raise InputError(
                f"no paper SLO list for model {model!r} (known: {', '.join(PAPER_SLOS)}); give slos"
            )
        for pricing in _as_tuple(pricings):
            for minute in picked:
                apps = []
                for i in range(n_apps):
                    requests = float(series[i % len(series)][minute])
                    if requests > 0:
                        apps.append(
                            App(f"app{i + 1}", model_slos[i % len(model_slos)], requests / 60)
                        )
                if not apps:
                    continue
                name = f"{tag}/{model}/{pricing}/n{n_apps}/m{minute:0{width}d}"
                out.append(Instance(name, tuple(apps), str(model), pricing, margin, tag))
    return out


# Synthetic families: rate range (req/s, log-uniform) and whether SLOs are a tight/loose mix.
FAMILIES: dict[str, dict[str, Any]] = {
    "uniform": {"rate_range": (0.5, 30.0), "mixed": False},
    "mixed": {"rate_range": (0.5, 30.0), "mixed": True},
    "low-rate": {"rate_range": (0.05, 0.95), "mixed": False},
}


def _check_range(name: str, value: Sequence[float], positive: bool = True) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be two numbers [low, high], got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high or (positive and low <= 0):
        raise InputError(f"{name} must satisfy 0 < low <= high, got {value!r}")
    return low, high


def _round_significant(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def synthetic(
    family: str = "uniform",
    n_apps: int | Iterable[int] = 8,
    count: int = 10,
    *,
    models: str | Iterable[str] = "vgg19",
    pricings: str | Iterable[str] = "alibaba-reference",
    seed: int = 0,
    slo_range: Sequence[float] | None = None,
    rate_range: Sequence[float] | None = None,
    tight_share: float = 0.5,
    margin: float = 1.0,
    tag: str | None = None,
) -> list[Instance]:
    """``count`` random instances per app count, model and pricing.

    SLOs are uniform over ``slo_range`` (default: the span of the model's paper SLO list),
    rates log-uniform over ``rate_range`` (default: the family's). Family ``mixed`` draws a
    ``tight_share`` of the apps from the lowest quarter of ``slo_range`` and the rest from the
    highest quarter; ``low-rate`` uses production-like rates below 1 req/s. The random draws
    depend only on (seed, family, n_apps, instance index), so the same apps (scaled into each
    model's SLO range) appear under every model and pricing.
    """
    if family not in FAMILIES:
        raise InputError(
            f"unknown synthetic family {family!r}: choose one of {', '.join(FAMILIES)}"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"count must be an integer >= 1, got {count!r}")
    if not 0.0 <= tight_share <= 1.0:
        raise InputError(f"tight_share must lie in [0, 1], got {tight_share!r}")
    sizes = (n_apps,) if isinstance(n_apps, int) else tuple(n_apps)
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"n_apps must be integers >= 1, got {n!r}")
    spec = FAMILIES[family]
    rate_low, rate_high = _check_range("rate_range", rate_range or spec["rate_range"])
    tag = family if tag is None else tag
    out = []
    for n in sizes:
        width = len(str(n))
        for k in range(count):
            rng = np.random.default_rng([seed, zlib.crc32(family.encode()), n, k])
            u_slo, u_rate = rng.random(n), rng.random(n)
            tight = rng.permutation(n) < round(tight_share * n)
            rates = np.exp(np.log(rate_low) + u_rate * (np.log(rate_high) - np.log(rate_low)))
            for model in _as_tuple(models):
                if slo_range is None and model not in PAPER_SLOS:
                    raise InputError(f"no default SLO range for model {model!r}; give slo_range")
                low, high = _check_range(
                    "slo_range",
                    slo_range or (min(PAPER_SLOS[model]), max(PAPER_SLOS[model])),
                )
                if spec["mixed"]:
                    quarter = (high - low) / 4
                    slo = np.where(tight, low + u_slo * quarter, high - quarter + u_slo * quarter)
                else:
                    slo = low + u_slo * (high - low)
                apps = tuple(
                    App(f"app{i + 1:0{width}d}", round(float(s), 3), _round_significant(float(r)))
                    for i, (s, r) in enumerate(zip(slo, rates, strict=True))
                )
                for pricing in _as_tuple(pricings):
                    name = f"{tag}/{model}/{pricing}/n{n}/i{k:03d}"
                    out.append(Instance(name, apps, str(model), pricing, margin, tag))
    return out


# -- instance files ----------------------------------------------------------------------

_SETTINGS = ("model", "pricing", "margin", "tag")


def read_instances(path: str | Path) -> list[Instance]:
    """Read instances from a JSON or CSV file and check that each builds a valid problem.

    JSON: a list (or ``{"instances": [...]}``) of objects with ``name``, ``apps`` (a list of
    ``{"name", "slo", "rate"}``) and optional ``model`` (default ``vgg19``), ``pricing``
    (default ``alibaba-reference``), ``margin`` (1.0) and ``tag``. CSV: one row per app with
    columns ``instance,name,slo,rate`` and optional ``model,pricing,margin,tag`` (the same on
    every row of an instance).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read instances file {str(path)!r}: {exc}") from None
    source = str(path)
    if path.suffix.lower() == ".json":
        instances = _instances_from_json(text, source)
    elif path.suffix.lower() == ".csv":
        instances = _instances_from_csv(text, source)
    else:
        raise InputError(f"instances file {source!r}: expected a .json or .csv file")
    if not instances:
        raise InputError(f"instances file {source!r} holds no instances")
    check_unique(instances, source)
    for instance in instances:
        instance.problem()
    return instances


def check_unique(instances: Iterable[Instance], source: str) -> None:
    """Raise :class:`InputError` naming the first instance name used twice."""
    seen: set[str] = set()
    for instance in instances:
        if instance.name in seen:
            raise InputError(f"{source}: instance name {instance.name!r} is used twice")
        seen.add(instance.name)


def _settings(raw: dict[str, Any], where: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key in _SETTINGS:
        value = raw.get(key)
        if value in (None, ""):
            continue
        if key == "margin":
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{where}: margin {value!r} is not a number") from None
        elif not isinstance(value, str):
            raise InputError(f"{where}: {key} must be a string, got {value!r}")
        settings[key] = value
    return settings


def _instances_from_json(text: str, source: str) -> list[Instance]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"instances file {source!r} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and set(data) == {"instances"}:
        data = data["instances"]
    if not isinstance(data, list):
        raise InputError(
            f"instances file {source!r}: expected a list of instance objects "
            "(name, apps, optional model, pricing, margin, tag)"
        )
    out = []
    for i, raw in enumerate(data):
        where = f"{source}, instance {i}"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected an object, got {raw!r}")
        unknown = [k for k in raw if k not in ("name", "apps", *_SETTINGS)]
        if unknown:
            raise InputError(
                f"{where}: unexpected keys {unknown}; allowed: name, apps, {', '.join(_SETTINGS)}"
            )
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"{where}: needs a non-empty string name")
        where = f"{source}, instance {name!r}"
        apps = raw.get("apps")
        if not isinstance(apps, list) or not apps:
            raise InputError(f"{where}: apps must be a non-empty list of {{name, slo, rate}}")
        parsed = tuple(app_from_mapping(a, f"{where}, app {j}") for j, a in enumerate(apps))
        out.append(Instance(name.strip(), parsed, **_settings(raw, where)))
    return out


def _instances_from_csv(text: str, source: str) -> list[Instance]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    required = ("instance", "name", "slo", "rate")
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in (*required, *_SETTINGS)]
    if missing or unknown:
        raise InputError(
            f"instances file {source!r}: columns must be instance,name,slo,rate "
            f"[,{','.join(_SETTINGS)}]"
            + (f"; missing {','.join(missing)}" if missing else "")
            + (f"; unexpected {','.join(unknown)}" if unknown else "")
        )
    reader.fieldnames = header
    apps: dict[str, list[App]] = {}
    settings: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        where = f"{source}, line {line}"
        name = (row.get("instance") or "").strip()
        if not name:
            raise InputError(f"{where}: the instance column is empty")
        row_settings = _settings(row, where)
        if name in settings and settings[name] != row_settings:
            raise InputError(
                f"{where}: instance {name!r} has {row_settings} here but "
                f"{settings[name]} on an earlier line; settings must agree"
            )
        settings[name] = row_settings
        app_fields = {key: row[key] for key in ("name", "slo", "rate")}
        apps.setdefault(name, []).append(app_from_mapping(app_fields, where))
    return [Instance(name, tuple(apps[name]), **settings[name]) for name in apps]
