"""Simulator throughput: simulated requests per second of wall time.

The workload is the paper's trace setup (SLOs 0.3..1.0 s, 8 apps, app i at the mean rate
of bundled trace ((i-1) mod 4)+1, times ``--rate-scale``), planned by each method and
simulated for ``--duration`` seconds; the best and median of ``--repeat`` runs are reported.

    PYTHONPATH=. python benchmarks/simulator_throughput.py --duration 3600 --repeat 5 \
        --json benchmarks/results/simulator_throughput.json

(``PYTHONPATH=.`` runs the checkout's hbopt rather than an installed one.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

import numpy as np

import hbopt
from hbopt.traces import load_trace

SLOS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def workload(model: str, rate_scale: float) -> hbopt.Problem:
    """Eight apps at the bundled traces' mean rates (app i uses trace ((i-1) mod 4)+1)."""
    means = [float(np.mean(load_trace(f"azure_app{k}"))) / 60.0 for k in range(1, 5)]
    apps = [(f"app{i + 1}", slo, means[i % 4] * rate_scale) for i, slo in enumerate(SLOS)]
    return hbopt.Problem.build(apps, model)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg19")
    parser.add_argument("--methods", default="harmony,mbs,batch,single")
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--rate-scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--concurrency", type=int, help="instances per group (default: any)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    problem = workload(args.model, args.rate_scale)
    rows = []
    for method in args.methods.split(","):
        plan = hbopt.solve(problem, method)
        hbopt.simulate(plan, duration=60.0, seed=0)  # warm-up: first-call costs are not timed
        times, requests = [], 0
        for seed in range(args.repeat):
            report = hbopt.simulate(
                plan, duration=args.duration, seed=seed, concurrency=args.concurrency
            )
            times.append(report.wall_time_s)
            requests = report.requests
        row = {
            "method": method,
            "groups": len(plan.groups),
            "batches": [g.batch for g in plan.groups],
            "requests": requests,
            "wall_time_s_best": min(times),
            "wall_time_s_median": statistics.median(times),
            "requests_per_s_best": requests / min(times),
            "requests_per_s_median": requests / statistics.median(times),
        }
        rows.append(row)
        print(
            f"{method:8s} {row['groups']} groups, {requests} requests: "
            f"best {row['wall_time_s_best']:.3f} s ({row['requests_per_s_best']:,.0f} req/s), "
            f"median {row['wall_time_s_median']:.3f} s "
            f"({row['requests_per_s_median']:,.0f} req/s)"
        )
    result = {
        "command": " ".join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "model": args.model,
        "duration_s": args.duration,
        "rate_scale": args.rate_scale,
        "concurrency": args.concurrency,
        "total_rate": problem.total_rate,
        "results": rows,
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
