"""Run methods over instances: in process, or on a Dask cluster; resumable and interruptible.

Every finished solve is appended at once as one JSON line to ``rows.jsonl`` in the output
folder, so an interrupted run keeps what it did and a re-run with the same folder skips it.
The tables and plots are rebuilt from that file at the end of every run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hbopt.bench.report import build_rows, machine, summarize, write_tables
from hbopt.bench.study import MethodSpec, Study, Task, check_method
from hbopt.errors import HboptError, InputError, SolverUnavailableError
from hbopt.problem import example_problem
from hbopt.solve import solve

__all__ = ["BenchResult", "RowStore", "run_study", "run_task", "run_tasks"]

ROWS_FILE = "rows.jsonl"


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


# Method specs this process has already run once (see _warm_up).
_WARMED: set[MethodSpec] = set()


def _warm_up(spec: MethodSpec) -> None:
    """Solve the paper's example once, untimed, before a method's first timed solve in this
    process, so that no row's time includes lazy imports or first-call set-up."""
    if spec in _WARMED:
        return
    _WARMED.add(spec)
    with contextlib.suppress(HboptError):
        solve(example_problem(), spec.method, time_limit=10.0, **dict(spec.options))


def run_task(task: Task) -> dict[str, Any]:
    """Solve one task and return its raw row; a method's :class:`HboptError` is a row with
    status ``error`` and the message."""
    instance, spec = task.instance, task.method
    _warm_up(spec)
    row: dict[str, Any] = {
        "instance": instance.name,
        "tag": instance.tag,
        "model": instance.model,
        "pricing": instance.pricing,
        "margin": instance.margin,
        "n_apps": instance.n_apps,
        "total_rate": instance.total_rate,
        "method": spec.label,
        "method_name": spec.method,
        "options": dict(spec.options),
        "time_limit": task.time_limit,
        "seed": task.seed,
        "fingerprint": instance.fingerprint(),
    }
    problem = instance.problem()
    start = time.perf_counter()
    try:
        plan = solve(
            problem, spec.method, time_limit=task.time_limit, seed=task.seed, **dict(spec.options)
        )
    except HboptError as exc:
        return row | {
            "status": "error",
            "cost_per_request": None,
            "cost_per_hour": None,
            "lower_bound": None,
            "solve_time_s": time.perf_counter() - start,
            "n_groups": None,
            "n_gpu_groups": None,
            "n_split_apps": None,
            "message": " ".join(str(exc).split()),
        }
    violations = plan.score().violations
    placements = Counter(app for g in plan.groups for app in g.apps)
    return row | {
        "status": plan.status.value,
        "cost_per_request": plan.cost_per_request,
        "cost_per_hour": plan.cost_per_hour,
        "lower_bound": _finite(plan.lower_bound),
        "solve_time_s": plan.solve_time_s,
        "n_groups": len(plan.groups),
        "n_gpu_groups": sum(g.function == "gpu" for g in plan.groups),
        "n_split_apps": sum(count > 1 for count in placements.values()),
        "message": "; ".join(violations[:3]),
        "groups": [{"apps": list(g.apps), "function": g.function} for g in plan.groups],
        "history": plan.extras.get("history"),
    }


class RowStore:
    """The append-only ``rows.jsonl`` of an output folder."""

    def __init__(self, folder: Path):
        self.path = folder / ROWS_FILE
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            # A run killed mid-write leaves a partial last line: drop it, it is redone.
            data = data[: data.rfind(b"\n") + 1]
            self.path.write_bytes(data)
        for number, line in enumerate(data.decode().splitlines(), start=1):
            try:
                row = json.loads(line)
                key = (row["instance"], row["method"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputError(
                    f"{str(self.path)!r}, line {number} is not a benchmark row; "
                    "use another output folder"
                ) from None
            self.rows[key] = row

    def check(self, task: Task) -> bool:
        """True if ``task`` is done; raise if it was done with other inputs or settings."""
        row = self.rows.get(task.key)
        if row is None:
            return False
        fingerprint = task.instance.fingerprint()
        clashes = [
            ("apps or planning settings", row.get("fingerprint"), fingerprint),
            ("method", row.get("method_name"), task.method.method),
            ("options", row.get("options"), dict(task.method.options)),
            ("time limit", row.get("time_limit"), task.time_limit),
            ("seed", row.get("seed"), task.seed),
        ]
        for what, old, new in clashes:
            if old != new:
                raise InputError(
                    f"{str(self.path.parent)!r} already holds instance {task.instance.name!r} "
                    f"with method {task.method.label!r} run with another {what} ({old!r}, this "
                    f"run: {new!r}); use another output folder or the same settings"
                )
        return True

    def append(self, row: dict[str, Any]) -> None:
        """Write ``row`` as one line; it is in the file as soon as this returns."""
        if not self.rows:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    f"cannot create output folder {str(self.path.parent)!r}: {exc.strerror}"
                ) from None
        with self.path.open("a") as out:
            out.write(json.dumps(row) + "\n")
        self.rows[(row["instance"], row["method"])] = row


@dataclass(frozen=True)
class BenchResult:
    """What a run produced: every row of the folder (with gaps), the summary, the files."""

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    new_rows: int
    files: list[Path]


def _execute_local(tasks: Sequence[Task], on_row: Callable[[dict[str, Any]], None]) -> None:
    for task in tasks:
        on_row(run_task(task))


def _execute_dask(
    tasks: Sequence[Task],
    on_row: Callable[[dict[str, Any]], None],
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int = 2,
) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SolverUnavailableError(
            "running on Dask needs dask[distributed]: pip install 'hbopt[bench]'"
        ) from None
    owned: list[Any] = []
    try:
        if client is None and scheduler is not None:
            try:
                client = Client(scheduler, timeout=10)
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(f"cannot connect to Dask scheduler {scheduler!r}: {exc}") from None
            owned.append(client)
        elif client is None:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
            owned.append(cluster)
            client = Client(cluster)
            owned.insert(0, client)
        futures = client.map(run_task, list(tasks), pure=False)
        try:
            for future in as_completed(futures):
                on_row(future.result())
        finally:
            client.cancel(futures)
    finally:
        for thing in owned:
            thing.close()


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[last]}"),
        console=Console(stderr=True),
        disable=not enabled,
    )


def run_tasks(
    tasks: Iterable[Task],
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    plots: bool = True,
    plot_tags: dict[str, tuple[str, ...]] | None = None,
    info: dict[str, Any] | None = None,
) -> BenchResult:
    """Run every task not yet done in ``out`` and write the reports.

    Parameters
    ----------
    tasks : iterable of Task
        The (instance, method) solves; keys must be unique.
    out : str or Path
        Output folder; it keeps ``rows.jsonl`` (one raw row per finished solve) and gets
        ``results.csv``, ``results.json``, ``summary.md``, ``run.json`` and ``plots/``.
    workers : int
        1 runs in this process; more start a Dask ``LocalCluster`` with that many
        single-threaded worker processes.
    scheduler : str, optional
        Address of a running Dask scheduler (its workers need hbopt installed).
    client : dask.distributed.Client, optional
        An existing client to run on (used as is, not closed).
    progress : bool
        Show a progress bar on stderr.
    plots : bool
        Write the plots (needs matplotlib).
    plot_tags : dict, optional
        Per plot name, the instance tags it shows (default: every row).
    info : dict, optional
        Extra provenance recorded in ``run.json`` and ``results.json`` (e.g. the command).

    Returns
    -------
    BenchResult
        Every row of the folder with its gap, the per-method summary, the files written.

    On Ctrl-C the rows done so far stay in ``rows.jsonl`` and the tables are written from
    them before the ``KeyboardInterrupt`` propagates; running again resumes.
    """
    tasks = list(tasks)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be an integer >= 1, got {workers!r}")
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise InputError(f"task {duplicate} is listed twice")
    for spec in {t.method for t in tasks}:
        check_method(spec)
    if plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise SolverUnavailableError(
                "plots need matplotlib: pip install 'hbopt[bench]' (or turn plots off)"
            ) from None
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output folder {str(folder)!r} is a file")
    # The folder is created with the first row, so a run that fails before solving
    # anything (e.g. an unreachable scheduler) leaves nothing behind.
    store = RowStore(folder)
    pending = [t for t in tasks if not store.check(t)]
    settings = {
        "tasks": len(tasks),
        "done_before": len(tasks) - len(pending),
        "time_limits": sorted({t.time_limit for t in tasks if t.time_limit is not None}),
        "seeds": sorted({t.seed for t in tasks}),
        "workers": workers,
        "scheduler": scheduler,
    }
    meta = {**(info or {}), "settings": settings, "machine": machine()}

    new = 0
    with _progress(progress) as bar:
        handle = bar.add_task(
            "bench", total=len(tasks), completed=len(tasks) - len(pending), last=""
        )

        def on_row(row: dict[str, Any]) -> None:
            nonlocal new
            store.append(row)
            new += 1
            bar.update(handle, advance=1, last=f"{row['instance']} · {row['method']}")

        try:
            if not pending:
                pass
            elif client is not None or scheduler is not None or workers > 1:
                _execute_dask(pending, on_row, client=client, scheduler=scheduler, workers=workers)
            else:
                _execute_local(pending, on_row)
        except KeyboardInterrupt:
            if store.rows:
                meta["interrupted"] = True
                _write(store, tasks, folder, meta, plots=False, plot_tags=plot_tags)
            raise
    files = _write(store, tasks, folder, meta, plots=plots, plot_tags=plot_tags)
    rows = build_rows(_ordered(store, tasks))
    return BenchResult(rows, summarize(rows), new, files)


def _ordered(store: RowStore, tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Rows in task order, then rows of earlier runs that this run did not ask for."""
    ordered = [store.rows[t.key] for t in tasks if t.key in store.rows]
    asked = {t.key for t in tasks}
    ordered += [row for key, row in store.rows.items() if key not in asked]
    return ordered


def _write(
    store: RowStore,
    tasks: Sequence[Task],
    folder: Path,
    meta: dict[str, Any],
    *,
    plots: bool,
    plot_tags: dict[str, tuple[str, ...]] | None,
) -> list[Path]:
    rows = build_rows(_ordered(store, tasks))
    folder.mkdir(parents=True, exist_ok=True)
    files = write_tables(rows, folder, meta)
    if plots:
        from hbopt.bench.plots import write_plots

        files += write_plots(rows, folder / "plots", plot_tags or {})
    return files


def run_study(
    study: Study,
    out: str | Path,
    *,
    methods: Sequence[str] | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    **options: Any,
) -> BenchResult:
    """Run a study (optionally only the method labels ``methods``) into ``out``.

    ``time_limit`` and ``seed`` override the study's for the solves; instance sampling is
    fixed when the study is loaded (``load_study(name, seed=...)``). Other options go to
    :func:`run_tasks`.
    Every method the run needs must be registered, or :class:`InputError` names it.
    """
    if methods is not None:
        study = study.select(methods)
    study.check()
    info = {"study": study.name, "description": study.description, **options.pop("info", {})}
    return run_tasks(
        study.tasks(time_limit=time_limit, seed=seed),
        out,
        plot_tags=options.pop("plot_tags", study.plots),
        info=info,
        **options,
    )
