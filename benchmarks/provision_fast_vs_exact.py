"""Where the paper's fast funcProvision is worse than the exact grid scan (SPEC section 6).

For random groups (1 to 8 apps, SLOs over each model's paper range, log-uniform rates over
0.1..50 req/s) under both pricing presets, compare the cost of `provision_fast` with that of
`provision_exact` and time both. Run from the repository root:

    PYTHONPATH=. python benchmarks/provision_fast_vs_exact.py --groups 2000 \
        --json benchmarks/results/provision_fast_vs_exact.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import hbopt
from hbopt.provision import provision_exact, provision_fast

SLO_RANGES = {"vgg19": (0.3, 1.0), "bert": (0.3, 1.0), "videomae": (1.0, 2.4), "gpt2": (1.0, 2.4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=2000, help="groups per model and pricing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    results = []
    for model, (low, high) in SLO_RANGES.items():
        for pricing in hbopt.PRESETS:
            worse, excess, fast_time, exact_time = 0, [], 0.0, 0.0
            for _ in range(args.groups):
                n = int(rng.integers(1, 9))
                apps = [
                    (
                        f"a{i}",
                        round(float(rng.uniform(low, high)), 2),
                        float(np.exp(rng.uniform(np.log(0.1), np.log(50)))),
                    )
                    for i in range(n)
                ]
                evaluator = hbopt.Problem.build(apps, model, pricing).evaluator
                group = evaluator.group(range(n))
                start = time.perf_counter()
                fast = provision_fast(evaluator, group)
                fast_time += time.perf_counter() - start
                start = time.perf_counter()
                exact = provision_exact(evaluator, group)
                exact_time += time.perf_counter() - start
                cost = evaluator.configs.cost_per_request
                if cost[fast] > cost[exact] * (1 + 1e-12):
                    worse += 1
                    excess.append(cost[fast] / cost[exact] - 1)
            row = {
                "model": model,
                "pricing": pricing,
                "groups": args.groups,
                "fast_worse": worse,
                "fast_worse_share": worse / args.groups,
                "mean_excess_when_worse": float(np.mean(excess)) if excess else 0.0,
                "max_excess": float(np.max(excess)) if excess else 0.0,
                "fast_mean_ms": 1000 * fast_time / args.groups,
                "exact_mean_ms": 1000 * exact_time / args.groups,
            }
            results.append(row)
            print(
                f"{model:9s} {pricing:18s} fast worse on {worse:4d}/{args.groups} groups "
                f"({row['fast_worse_share']:.1%}); mean excess {row['mean_excess_when_worse']:.2%}"
                f", max {row['max_excess']:.2%}; fast {row['fast_mean_ms']:.2f} ms, "
                f"exact {row['exact_mean_ms']:.2f} ms per group"
            )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "command": "PYTHONPATH=. python benchmarks/provision_fast_vs_exact.py "
                    f"--groups {args.groups} --seed {args.seed}",
                    "results": results,
                },
                out,
                indent=2,
            )


if __name__ == "__main__":
    main()
