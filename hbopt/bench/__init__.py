"""Benchmarks: instance sources, studies, a resumable runner (local or Dask), reports, plots.

>>> from hbopt.bench import MethodSpec, Task, run_tasks, table1
>>> tasks = [Task(i, MethodSpec("harmony", "harmony")) for i in table1()]
>>> result = run_tasks(tasks, "out", plots=False)  # doctest: +SKIP

Plots need matplotlib and Dask runs need dask[distributed] (the ``bench`` extra); both are
imported only when used.
"""

from hbopt.bench.instances import (
    FAMILIES,
    PAPER_SLOS,
    PAPER_TRACES,
    Instance,
    paper_scenarios,
    read_instances,
    synthetic,
    table1,
)
from hbopt.bench.report import COLUMNS, build_rows, summarize
from hbopt.bench.runner import BenchResult, run_study, run_task, run_tasks
from hbopt.bench.study import (
    MethodSpec,
    Part,
    Study,
    Task,
    bundled_studies,
    load_study,
    parse_methods,
)

__all__ = [
    "COLUMNS",
    "FAMILIES",
    "PAPER_SLOS",
    "PAPER_TRACES",
    "BenchResult",
    "Instance",
    "MethodSpec",
    "Part",
    "Study",
    "Task",
    "build_rows",
    "bundled_studies",
    "load_study",
    "paper_scenarios",
    "parse_methods",
    "read_instances",
    "run_study",
    "run_task",
    "run_tasks",
    "summarize",
    "synthetic",
    "table1",
]
