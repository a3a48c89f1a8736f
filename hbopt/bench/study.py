"""Studies: named sets of (instances x methods) read from TOML files in ``benchmarks/studies``.

A study file has optional top-level ``description``, ``time_limit`` (seconds per solve),
``seed`` and a ``[plots]`` table choosing which instance tags each plot shows, and one or
more ``[[parts]]``. Each part names an instance ``source`` with its arguments and the
``methods`` to run on those instances::

    time_limit = 60
    [plots]
    cost_by_model = ["fig11"]

    [[parts]]
    source = "paper"          # table1 | paper | synthetic | file
    tag = "fig11"
    models = ["vgg19", "bert"]
    pricings = ["alibaba-reference", "paper"]
    minutes = 20              # seeded sample of trace minutes ("all": every minute)
    methods = ["harmony", "mbs", {label = "harmony-exact", method = "harmony",
                                  options = {provisioning = "exact"}}]
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hbopt.bench.instances import (
    Instance,
    check_unique,
    paper_scenarios,
    read_instances,
    synthetic,
    table1,
)
from hbopt.errors import InputError
from hbopt.methods import METHODS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "PLOTS",
    "MethodSpec",
    "Part",
    "Study",
    "Task",
    "bundled_studies",
    "check_method",
    "load_study",
    "parse_methods",
]

PLOTS = ("cost_by_model", "time_vs_apps", "gaps", "merging")


@dataclass(frozen=True)
class MethodSpec:
    """A method as a benchmark runs it: a row ``label``, a registered ``method`` and options."""

    label: str
    method: str
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, entry: Any, where: str = "methods") -> MethodSpec:
        """From a method name or a ``{label, method, options}`` table."""
        if isinstance(entry, str) and entry.strip():
            return cls(entry.strip(), entry.strip())
        if isinstance(entry, dict):
            unknown = [k for k in entry if k not in ("label", "method", "options")]
            method = entry.get("method")
            options = entry.get("options", {})
            if unknown or not isinstance(method, str) or not isinstance(options, dict):
                raise InputError(
                    f"{where}: a method table needs method (a name) and may have label and "
                    f"options (a table); got {entry!r}"
                )
            label = entry.get("label", method)
            if not isinstance(label, str) or not label.strip():
                raise InputError(f"{where}: label must be a non-empty string, got {label!r}")
            return cls(label.strip(), method, tuple(sorted(options.items())))
        raise InputError(f"{where}: expected a method name or a table, got {entry!r}")


def check_method(spec: MethodSpec, where: str = "") -> None:
    """Raise :class:`InputError` if the method is not registered or an option is unknown."""
    prefix = f"{where}: " if where else ""
    if spec.method not in METHODS:
        raise InputError(
            f"{prefix}method {spec.method!r} is not registered "
            f"(available: {', '.join(sorted(METHODS))})"
        )
    accepted = [
        name
        for name, p in inspect.signature(METHODS[spec.method]).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("time_limit", "seed")
    ]
    for name, _ in spec.options:
        if name not in accepted:
            raise InputError(
                f"{prefix}method {spec.method!r} does not take option {name!r}; it takes: "
                + (", ".join(accepted) or "no options")
            )


def parse_methods(text: str | Sequence[Any], where: str = "--methods") -> tuple[MethodSpec, ...]:
    """Method specs from ``"harmony,mbs"`` or a list of names/tables; labels must be unique."""
    entries = [m for m in text.split(",") if m.strip()] if isinstance(text, str) else list(text)
    if not entries:
        raise InputError(f"{where}: give at least one method")
    specs = tuple(MethodSpec.parse(e, where) for e in entries)
    labels = [s.label for s in specs]
    for label in labels:
        if labels.count(label) > 1:
            raise InputError(f"{where}: method label {label!r} is used twice")
    return specs


@dataclass(frozen=True)
class Task:
    """One solve: a method on an instance with a time limit and a seed."""

    instance: Instance
    method: MethodSpec
    time_limit: float | None = None
    seed: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """``(instance name, method label)``: what a row is identified by."""
        return (self.instance.name, self.method.label)


@dataclass(frozen=True)
class Part:
    """Instances and the methods to run on each of them."""

    instances: tuple[Instance, ...]
    methods: tuple[MethodSpec, ...]


@dataclass(frozen=True)
class Study:
    """A named benchmark: parts, default time limit and seed, and plot selections."""

    name: str
    parts: tuple[Part, ...]
    description: str = ""
    time_limit: float | None = None
    seed: int = 0
    plots: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        """Every method label the study runs, in first-seen order."""
        labels: dict[str, None] = {}
        for part in self.parts:
            labels.update(dict.fromkeys(m.label for m in part.methods))
        return tuple(labels)

    def select(self, labels: Iterable[str]) -> Study:
        """The study restricted to the method ``labels`` (each must be in the study)."""
        wanted = list(labels)
        for label in wanted:
            if label not in self.methods:
                raise InputError(
                    f"method {label!r} is not part of study {self.name!r} "
                    f"(it runs: {', '.join(self.methods)})"
                )
        parts = []
        for part in self.parts:
            kept = tuple(m for m in part.methods if m.label in wanted)
            if kept:
                parts.append(Part(part.instances, kept))
        return Study(
            self.name, tuple(parts), self.description, self.time_limit, self.seed, self.plots
        )

    def check(self) -> None:
        """Raise :class:`InputError` naming the first unregistered method or bad option."""
        for i, part in enumerate(self.parts):
            for spec in part.methods:
                check_method(spec, f"study {self.name!r}, part {i + 1}")

    def tasks(self, time_limit: float | None = None, seed: int | None = None) -> list[Task]:
        """Every (instance, method) of every part, in order; a key appears once."""
        limit = self.time_limit if time_limit is None else time_limit
        seed = self.seed if seed is None else seed
        out: dict[tuple[str, str], Task] = {}
        for part in self.parts:
            for instance in part.instances:
                for spec in part.methods:
                    task = Task(instance, spec, limit, seed)
                    out.setdefault(task.key, task)
        return list(out.values())


def _studies_folder() -> Path:
    # A wheel ships benchmarks/studies as hbopt/studies_data; a checkout has it at the root.
    installed = Path(str(resources.files("hbopt"))) / "studies_data"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "benchmarks" / "studies"


def bundled_studies() -> dict[str, Path]:
    """Names and paths of the bundled study files."""
    return {path.stem: path for path in sorted(_studies_folder().glob("*.toml"))}


def load_study(name: str | Path, seed: int | None = None) -> Study:
    """Load a bundled study by name (``"paper"``) or a study TOML file by path.

    ``seed`` overrides the file's seed; it drives instance sampling (and, via
    :meth:`Study.tasks`, the methods).
    """
    bundled = bundled_studies()
    if isinstance(name, str) and name in bundled:
        path = bundled[name]
    else:
        path = Path(name)
        if not path.is_file():
            raise InputError(
                f"unknown study {str(name)!r}: use a bundled name "
                f"({', '.join(bundled) or 'none found'}) or the path of a study TOML file"
            )
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read study file {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"study file {str(path)!r} is not valid TOML: {exc}") from None
    return _StudyReader(path).read(data, seed)


_COMMON = ("source", "methods", "tag", "margin")
_SOURCE_KEYS = {
    "table1": ("pricings",),
    "paper": ("models", "pricings", "n_apps", "minutes", "slos", "traces"),
    "synthetic": (
        "family",
        "n_apps",
        "count",
        "models",
        "pricings",
        "slo_range",
        "rate_range",
        "tight_share",
    ),
    "file": ("path",),
}


class _StudyReader:
    """Turns a parsed study file into a :class:`Study`, naming the first bad key."""

    def __init__(self, path: Path):
        self.path = path
        self.where = f"study {str(path)!r}"

    def read(self, data: dict[str, Any], seed: int | None) -> Study:
        unknown = [
            k for k in data if k not in ("description", "time_limit", "seed", "plots", "parts")
        ]
        if unknown:
            raise InputError(
                f"{self.where}: unknown keys {unknown}; "
                "allowed: description, time_limit, seed, plots, parts"
            )
        time_limit = data.get("time_limit")
        if time_limit is not None and not (
            isinstance(time_limit, (int, float))
            and not isinstance(time_limit, bool)
            and math.isfinite(time_limit)
            and time_limit > 0
        ):
            raise InputError(f"{self.where}: time_limit must be a positive number of seconds")
        file_seed = data.get("seed", 0)
        if isinstance(file_seed, bool) or not isinstance(file_seed, int) or file_seed < 0:
            raise InputError(f"{self.where}: seed must be an integer >= 0, got {file_seed!r}")
        seed = file_seed if seed is None else seed
        plots = self.plots(data.get("plots", {}))
        parts_data = data.get("parts")
        if not isinstance(parts_data, list) or not parts_data:
            raise InputError(f"{self.where}: needs at least one [[parts]] table")
        parts = tuple(self.part(p, i + 1, seed) for i, p in enumerate(parts_data))
        self.check_consistent(parts)
        return Study(
            name=self.path.stem,
            parts=parts,
            description=str(data.get("description", "")),
            time_limit=None if time_limit is None else float(time_limit),
            seed=seed,
            plots=plots,
        )

    def plots(self, raw: Any) -> dict[str, tuple[str, ...]]:
        if not isinstance(raw, dict):
            raise InputError(f"{self.where}: plots must be a table")
        out = {}
        for key, tags in raw.items():
            if key not in PLOTS:
                raise InputError(f"{self.where}: unknown plot {key!r}; plots: {', '.join(PLOTS)}")
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise InputError(f"{self.where}: plots.{key} must be a list of instance tags")
            out[key] = tuple(tags)
        return out

    def part(self, raw: Any, number: int, seed: int) -> Part:
        where = f"{self.where}, part {number}"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a table")
        source = raw.get("source")
        if source not in _SOURCE_KEYS:
            raise InputError(
                f"{where}: source must be one of {', '.join(_SOURCE_KEYS)}, got {source!r}"
            )
        allowed = (*_COMMON, *_SOURCE_KEYS[source])
        unknown = [k for k in raw if k not in allowed]
        if unknown:
            raise InputError(
                f"{where}: unknown keys {unknown} for source {source!r}; "
                f"allowed: {', '.join(allowed)}"
            )
        if "methods" not in raw:
            raise InputError(f"{where}: needs methods (a list of method names or tables)")
        methods = parse_methods(self.list_of(raw["methods"], "methods", where), f"{where}, methods")
        args = {k: v for k, v in raw.items() if k not in ("source", "methods")}
        try:
            instances = self.instances(source, args, seed, where)
        except TypeError as exc:
            raise InputError(f"{where}: {exc}") from None
        if not instances:
            raise InputError(f"{where}: makes no instances")
        check_unique(instances, where)
        for instance in instances:
            try:
                instance.problem()
            except InputError as exc:
                raise InputError(f"{where}: {exc}") from None
        return Part(tuple(instances), methods)

    @staticmethod
    def list_of(value: Any, key: str, where: str) -> list[Any]:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return [value]
        if not isinstance(value, list) or not value:
            raise InputError(f"{where}: {key} must be a value or a non-empty list")
        return value

    def instances(self, source: str, args: dict[str, Any], seed: int, where: str) -> list[Instance]:
        if source == "table1":
            return table1(args.pop("pricings", "alibaba-reference"), **args)
        if source == "file":
            if not isinstance(args.get("path"), str):
                raise InputError(f"{where}: source 'file' needs path (relative to the study)")
            path = (self.path.parent / args.pop("path")).resolve()
            overrides = {k: args[k] for k in ("tag", "margin") if k in args}
            return [dataclasses.replace(i, **overrides) for i in read_instances(path)]
        if source == "paper":
            sizes = self.list_of(args.pop("n_apps", 8), "n_apps", where)
            if args.get("minutes") == "all":
                args["minutes"] = None
            if "traces" in args:
                args["traces"] = [
                    t if not t.endswith(".csv") else str((self.path.parent / t).resolve())
                    for t in self.list_of(args["traces"], "traces", where)
                ]
            args.setdefault("tag", "paper")
            return [i for n in sizes for i in paper_scenarios(n_apps=n, seed=seed, **args)]
        return synthetic(seed=seed, **args)

    def check_consistent(self, parts: Sequence[Part]) -> None:
        """Two parts may share an instance name only if they define the same problem."""
        seen: dict[str, Instance] = {}
        for part in parts:
            for instance in part.instances:
                other = seen.setdefault(instance.name, instance)
                if other.fingerprint() != instance.fingerprint():
                    raise InputError(
                        f"{self.where}: instance {instance.name!r} is defined twice "
                        "with different apps or settings"
                    )
