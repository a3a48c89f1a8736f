"""SLO violations and realised vs predicted cost of each method's plans in simulation.

Two scenarios (SPEC section 10):

- ``table1``: the paper's Table I example (VGG-19; SLOs 0.5/0.8/1.0 s at 5/10/20 req/s),
  Poisson arrivals for ``--duration`` seconds.
- ``traces``: per model, 8 apps (SLOs 0.3..1.0 s for VGG-19 and BERT, 1.0..2.4 s for GPT-2
  and VideoMAE), rates replayed from the bundled traces (app i uses trace ((i-1) mod 4)+1),
  re-planned every minute, for ``--minutes`` minutes.

Every registered method is run (``exact`` too, where installed), plus BATCH with its
deterministic-latency assumption (``batch-det``).

    PYTHONPATH=. python benchmarks/simulator_scenarios.py --duration 3600 --minutes 120 \
        --json benchmarks/results/simulator_scenarios.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import hbopt

TRACE_SLOS = {
    "vgg19": [round(0.3 + 0.1 * k, 1) for k in range(8)],
    "bert": [round(0.3 + 0.1 * k, 1) for k in range(8)],
    "gpt2": [round(1.0 + 0.2 * k, 1) for k in range(8)],
    "videomae": [round(1.0 + 0.2 * k, 1) for k in range(8)],
}


def variants() -> dict[str, tuple[str, dict[str, Any]]]:
    """Method variants by label: every registered method, plus BATCH's deterministic mode."""
    out = {name: (name, {}) for name in sorted(hbopt.METHODS)}
    out["batch-det"] = ("batch", {"deterministic": True})
    return out


def table1(duration: float, seed: int) -> list[dict[str, Any]]:
    problem = hbopt.example_problem()
    rows = []
    for label, (method, options) in variants().items():
        plan = hbopt.solve(problem, method, **options)
        report = hbopt.simulate(plan, duration=duration, seed=seed)
        rows.append(
            {
                "method": label,
                "status": plan.status.value,
                "requests": report.requests,
                "violation_rate": report.violation_rate,
                "app_violation_rates": {n: a.violation_rate for n, a in report.apps.items()},
                "timeout_flush_share": [g.timeout_flush_share for g in report.groups],
                "cost_per_request_predicted": report.cost_per_request_predicted,
                "cost_per_request_realised": report.cost_per_request_realised,
            }
        )
    return rows


def traces(models: list[str], minutes: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for model in models:
        for label, (method, options) in variants().items():
            try:
                report = hbopt.replay_trace(
                    TRACE_SLOS[model],
                    model=model,
                    method=method,
                    method_options=options,
                    minutes=minutes,
                    seed=seed,
                )
            except hbopt.HboptError as exc:
                rows.append({"model": model, "method": label, "error": str(exc)})
                continue
            rows.append(
                {
                    "model": model,
                    "method": label,
                    "requests": report.requests,
                    "violation_rate": report.violation_rate,
                    "minutes_with_violations": sum(m.violations > 0 for m in report.minutes),
                    "cost_predicted": report.cost_predicted,
                    "cost_realised": report.cost_realised,
                    "cost_per_request_predicted": report.cost_per_request_predicted,
                    "cost_per_request_realised": report.cost_per_request_realised,
                    "wall_time_s": report.wall_time_s,
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3600.0, help="table1: seconds")
    parser.add_argument("--minutes", type=int, default=120, help="traces: minutes")
    parser.add_argument("--models", default="vgg19,bert,gpt2,videomae")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    result = {
        "command": " ".join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "pricing": "alibaba-reference",
        "seed": args.seed,
        "table1": table1(args.duration, args.seed),
        "traces": traces(args.models.split(","), args.minutes, args.seed),
    }
    print(f"Table I example, {args.duration:g} s, seed {args.seed}")
    for row in result["table1"]:
        apps = " ".join(f"{n}={v:.2%}" for n, v in row["app_violation_rates"].items())
        print(
            f"  {row['method']:10s} violations {row['violation_rate']:.3%} ({apps}); cost/request "
            f"predicted {row['cost_per_request_predicted']:.4e}, realised "
            f"{row['cost_per_request_realised']:.4e} "
            f"({row['cost_per_request_realised'] / row['cost_per_request_predicted'] - 1:+.1%})"
        )
    print(f"Trace replay, {args.minutes} minutes, seed {args.seed}")
    for row in result["traces"]:
        if "error" in row:
            print(f"  {row['model']:9s} {row['method']:10s} error: {row['error']}")
            continue
        print(
            f"  {row['model']:9s} {row['method']:10s} violations {row['violation_rate']:.3%} "
            f"({row['minutes_with_violations']} minutes); cost predicted "
            f"{row['cost_predicted']:.3f}, realised {row['cost_realised']:.3f} "
            f"({row['cost_realised'] / row['cost_predicted'] - 1:+.1%}) "
            f"[{row['wall_time_s']:.1f} s]"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
