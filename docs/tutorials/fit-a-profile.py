# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tutorial 3: fit a profile from measurements and plan with it
#
# To plan for your own DNN model, hbopt needs its **profile**: the coefficients of the
# latency models (Eq. 1 for CPU functions, Eq. 2 for the GPU) and its memory needs. The
# paper's *model profiler* gets them by timing the model on real functions and fitting the
# curves. Here we play both sides: we pretend VGG-19's bundled profile is the unknown truth,
# generate the measurements a profiler would record (with noise), fit them with
# `hbopt.fit`, and check what the fitted profile changes in the plan.

# %%
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import hbopt
from hbopt.evaluator import cpu_latency
from hbopt.fit import (
    ProfileDefaults,
    fit_profile,
    plot_fit,
    synthetic_measurements,
    write_measurements,
)

truth = hbopt.load_profile("vgg19")
workdir = Path(tempfile.mkdtemp(prefix="hbopt-fit-"))

# %% [markdown]
# ## 1. Measurements
#
# A measurements file has one row per timed invocation: `function,batch,vcpu,latency_s`.
# CPU rows give the function's vCPU cores; GPU rows are measured on a *whole* GPU and leave
# `vcpu` empty. `synthetic_measurements` evaluates the true profile with the evaluator's
# own latency functions at 10 vCPU sizes and 6 GPU batch sizes, 10 runs each, with 1 %
# relative noise on every measured mean and maximum.

# %%
rows = synthetic_measurements(truth, noise=0.01, repeats=10, seed=42)
measurements = workdir / "vgg19-measurements.csv"
write_measurements(rows, measurements)
print(f"{len(rows)} rows; the first lines of {measurements.name}:")
print("\n".join(measurements.read_text().splitlines()[:4]))
print("...")
print("\n".join([line for line in measurements.read_text().splitlines() if "gpu" in line][:2]))

# %% [markdown]
# ## 2. Fit
#
# `hbopt fit --measurements FILE --out PROFILE.json --plot fit.png` does the same on the
# command line. Latency measurements say nothing about the GPU's time slice, memory per
# batch or host memory, so those come from options (`ProfileDefaults` here); we copy them
# from the true profile so that only the fitted coefficients differ.

# %%
same_platform = ProfileDefaults(
    device=truth.gpu.device,
    total_memory_gb=truth.gpu.total_memory_gb,
    time_slice_s=truth.gpu.time_slice_s,
    max_batch_per_gb=truth.gpu.max_batch_per_gb,
    host_memory_mb=truth.gpu.host_memory_mb,
    memory_per_batch_mb=truth.cpu.memory_per_batch_mb,
    memory_base_mb=truth.cpu.memory_base_mb,
)
result = fit_profile(measurements, name="my-vgg19", defaults=same_platform)
print(f"{'curve':8s} {'batch':>5s} {'R^2':>8s} {'max rel. error':>15s}")
for row in result.report():
    r2 = "" if row["r2"] is None else f"{row['r2']:.5f}"
    print(f"{row['curve']:8s} {row['batch']!s:>5s} {r2:>8s} {row['max_relative_error']:15.2%}")

# %% [markdown]
# Goodness of fit per curve: R² close to 1 and a largest relative error close to the
# noise level say the model shape fits the data. A curve with a large error at one end
# usually means the measurements stop too early (e.g. no small vCPU sizes).

# %%
plot_fit(result, plt.figure(figsize=(13, 4), layout="constrained"))
plt.show()

# %% [markdown]
# ## 3. Did we recover the truth?
#
# The three coefficients of Eq. 1 trade off against each other (a larger `alpha` with a
# smaller `beta` draws nearly the same curve), so with noisy data the coefficients move
# more than the curves do. What planning needs is the curve, so compare latencies:

# %%
fitted = result.profile
grid = np.linspace(0.25, 8, 200)
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
worst = 0.0
for row, b in enumerate(truth.cpu.batch_sizes):
    for stat, style in (("latency_avg", "-"), ("latency_max", "--")):
        true_curve = cpu_latency(np.asarray(getattr(truth.cpu, stat)[row]), grid)
        fitted_curve = cpu_latency(np.asarray(getattr(fitted.cpu, stat)[row]), grid)
        error = (fitted_curve - true_curve) / true_curve
        worst = max(worst, float(np.abs(error).max()))
        ax.plot(grid, 100 * error, f"C{row}{style}", label=f"b={b} {stat[8:]}")
ax.set(xlabel="vCPU cores c", ylabel="fitted vs true latency (%)", title="Curve recovery")
ax.legend(ncol=2, fontsize=8)
print(f"largest relative error of any fitted CPU curve over 0.25-8 vCPU: {worst:.2%}")
print(f"xi1: true {truth.gpu.xi1:.5g}, fitted {fitted.gpu.xi1:.5g}")
print(f"xi2: true {truth.gpu.xi2:.5g}, fitted {fitted.gpu.xi2:.5g}")
plt.show()

# %% [markdown]
# ## 4. Plan with the fitted profile
#
# The fitted profile is an ordinary `Profile`: save it as JSON and plan with
# `hbopt plan --model my-vgg19.json`, or pass it to `Problem.build`.

# %%
profile_file = workdir / "my-vgg19.json"
profile_file.write_text(json.dumps(fitted.to_dict(), indent=2))
assert hbopt.load_profile(profile_file) == fitted

for name, profile in (("true profile", truth), ("fitted profile", fitted)):
    problem = hbopt.Problem.build(None, model=profile)  # the paper's three apps
    plan = hbopt.solve(problem, "harmony")
    groups = " | ".join(
        f"{'+'.join(g.apps)} on {g.function.upper()} "
        + (f"{g.gpu_memory_gb} GB" if g.function == "gpu" else f"{g.vcpu:g} vCPU")
        + f" b={g.batch}"
        for g in plan.groups
    )
    print(f"{name:15s} {plan.cost_per_hour:.4f} {problem.pricing.currency}/hour  {groups}")

# %% [markdown]
# A small error in the latency curves can still move a plan: a batch size or a memory size
# sits exactly where a latency bound meets an SLO, so a 1 % slower fitted curve can push a
# configuration across. Measure where your plans will run (around the vCPU sizes and batch
# sizes the planner picks) and with enough repetitions that the maximum is a real maximum.
