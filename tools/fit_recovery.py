"""How well does `hbopt fit` recover a known profile? The study behind the tolerance that
tests/test_fit.py asserts and docs/fitting.md states.

For each bundled model and each seed: synthetic measurements from the bundled profile
(default vCPU sizes and GPU batch sizes, 10 repeats, relative noise NOISE), a fit, and the
largest relative error of any fitted CPU curve over the measured vCPU range and of the GPU
line over batch sizes 1-32. Prints the median, 95th percentile and maximum over seeds.

    python tools/fit_recovery.py --noise 0.01 --seeds 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import hbopt
from hbopt.fit import DEFAULT_VCPUS, curve_errors, fit_measurements, synthetic_measurements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--models", default="vgg19,bert,gpt2")
    args = parser.parse_args()
    grid = np.linspace(min(DEFAULT_VCPUS), max(DEFAULT_VCPUS), 100)
    print(f"noise {args.noise}, {args.seeds} seeds, vCPU {grid[0]:g}-{grid[-1]:g}, GPU b 1-32")
    print(
        f"{'model':9s} {'worst CPU curve: median':>24s} {'p95':>7s} {'max':>7s}   "
        f"{'GPU line: median':>17s} {'p95':>7s} {'max':>7s}"
    )
    start = time.perf_counter()
    for model in args.models.split(","):
        true = hbopt.load_profile(model)
        cpu, gpu = [], []
        for seed in range(args.seeds):
            rows = synthetic_measurements(true, noise=args.noise, seed=seed)
            errors = curve_errors(true, fit_measurements(rows).profile, grid)
            gpu.append(errors.pop("gpu"))
            cpu.append(max(errors.values()))
        stats = [f"{np.percentile(v, q):7.2%}" for v in (cpu, gpu) for q in (50, 95, 100)]
        print(
            f"{model:9s} {stats[0]:>24s} {stats[1]} {stats[2]}   {stats[3]:>17s} "
            f"{stats[4]} {stats[5]}"
        )
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
