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
# # Tutorial 1: plan the paper's example and read the plan
#
# Three applications call the same VGG-19 model (the paper's Table I). Each sends Poisson
# requests at its own rate and has its own latency SLO. We ask hbopt for the cheapest set of
# serverless functions that meets every SLO, then read the plan line by line and look at the
# two curves that explain it: how latency falls with resources, and how the best function
# changes with the request rate.
#
# Run this script yourself with `python docs/tutorials/plan-example.py`, or open it in
# Jupyter (it is a [jupytext](https://jupytext.readthedocs.io) notebook).

# %%
import matplotlib.pyplot as plt
import numpy as np

import hbopt
from hbopt.evaluator import GroupSpec, batch_feasible, cpu_latency, equivalent_timeout, gpu_latency
from hbopt.methods.harmony import knee_rate
from hbopt.provision import provision_exact

problem = hbopt.example_problem()
for app in problem.apps:
    print(f"{app.name}: SLO {app.slo:g} s, {app.rate:g} requests/s")
print("model:", problem.profile.name, "| pricing:", problem.pricing.name, problem.pricing.currency)

# %% [markdown]
# ## The plan
#
# `hbopt.solve` runs a method on a frozen `Problem`. `harmony` is the paper's heuristic
# (Alg. 1). `hbopt plan` prints the same plan as a table on the command line.

# %%
plan = hbopt.solve(problem, "harmony")
currency = problem.pricing.currency
print(f"{plan.method} plan, status {plan.status.value}: {len(plan.groups)} group(s)")
for number, g in enumerate(plan.groups, start=1):
    if g.function == "gpu":
        size = f"{g.gpu_memory_gb} of {problem.profile.gpu.total_memory_gb} GB GPU memory"
    else:
        size = f"{g.vcpu:g} vCPU, {g.memory_gb:g} GB memory"
    print(f"group {number}: {', '.join(g.apps)} on a {g.function.upper()} function, {size}")
    print(f"  batch {g.batch}; latency avg {g.latency_avg:.3f} s, max {g.latency_max:.3f} s")
    print("  timeouts: " + ", ".join(f"{a} {g.timeouts[a]:.3f} s" for a in g.apps))
    print(f"  {g.rate:g} req/s at {g.cost_per_request:.4e} {currency} per request")
print(f"cost: {plan.cost_per_request:.4e} per request = {plan.cost_per_hour:.4f} {currency}/hour")

# %% [markdown]
# How to read it:
#
# * **One group, one function.** All three apps share one GPU function with `m` GB of the
#   GPU's 24 GB (a time-sliced share). Requests of all three apps wait in one buffer.
# * **Batch size and timeouts.** The buffer is sent to the function when it holds `batch`
#   requests, or when the timeout of a waiting request runs out. Each app's timeout is its
#   SLO minus the function's *maximum* latency (Eq. 10), so even the unluckiest request of
#   the tightest app finishes in time.
# * **Why this batch size is reachable.** Eq. 5 turns the per-app timeouts into one
#   *equivalent* timeout `T` of the merged Poisson stream; a batch of `b` is expected to fill
#   in time when `b <= floor(r T) + 1` (Eq. 9). We recompute both with the evaluator's own
#   functions:

# %%
group = plan.groups[0]
timeouts = [group.timeouts[a] for a in group.apps]
rates = [group.app_rates[a] for a in group.apps]
T, total_rate = equivalent_timeout(timeouts, rates)
print(f"timeouts {np.round(timeouts, 3)} s, rates {rates} req/s")
print(f"equivalent timeout T = {T:.3f} s, r = {total_rate:g} req/s")
print(f"floor(r T) + 1 = {int(np.floor(total_rate * T)) + 1} >= batch {group.batch}")
assert batch_feasible(np.array([group.batch]), np.array([T]), total_rate)[0]
print("cost per request:", f"{plan.cost_per_request:.4e}", problem.pricing.currency)
score = plan.score()
print(f"re-scored: {score.cost_per_request:.4e} per request, violations: {list(score.violations)}")

# %% [markdown]
# ## Latency curves (Eqs. 1-4)
#
# On a CPU function latency falls exponentially with the vCPU cores `c` (Eq. 1) and levels
# off at `gamma`: beyond a few cores, more cores buy nothing. On a GPU function with `m` of
# `M` GB the function only runs in `m` of every `M` time slices: the average latency is
# `M / m` times the whole-GPU latency (Eq. 3) and the worst case adds the slices it waits
# for (Eq. 4). The curves below come from the evaluator's own functions.

# %%
profile = problem.profile
cores = np.linspace(0.25, 6, 200)
memory = np.arange(1, profile.gpu.total_memory_gb + 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
for row, b in enumerate(profile.cpu.batch_sizes):
    left.plot(cores, cpu_latency(np.asarray(profile.cpu.latency_avg[row]), cores), f"C{row}")
    left.plot(cores, cpu_latency(np.asarray(profile.cpu.latency_max[row]), cores), f"C{row}--")
    left.plot([], [], f"C{row}", label=f"batch {b}")
left.plot([], [], "k--", label="maximum (dashed)")
left.set(title="CPU function, Eq. 1", xlabel="vCPU cores c", ylabel="latency (s)", ylim=(0, 4))
left.legend()
for index, b in enumerate((1, 8, 16)):
    batch = np.full(memory.shape, b)
    average, worst = gpu_latency(profile.gpu, batch, memory.astype(float), memory / 3)
    right.plot(memory, average, f"C{index}o-", markersize=3, label=f"batch {b}: average")
    right.plot(memory, worst, f"C{index}--", label=f"batch {b}: maximum")
right.set(title="GPU function, Eqs. 2-4", xlabel="GPU memory m (GB of 24)", ylabel="latency (s)")
right.set_yscale("log")
right.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Cost against the request rate, and the knee point
#
# Take the tightest app alone (SLO 0.5 s) and vary its rate. At low rates a GPU function
# cannot fill a batch before the SLO runs out and bills whole seconds per invocation, so a
# small CPU function is cheaper; as the rate grows, the GPU amortises its invocation over
# larger batches and wins. The rate where the cheapest choice switches is the **knee point**
# `r*` that HarmonyBatch uses to decide when merging CPU groups should pay (Alg. 1, stage 1).

# %%
evaluator = problem.evaluator
tight = 0  # app1, the smallest SLO
rate_grid = np.geomspace(0.2, 40, 60)
best = {"cpu": [], "gpu": []}
for rate in rate_grid:
    spec = GroupSpec((tight,), (float(rate),))
    for function in best:
        config = provision_exact(evaluator, spec, (function,))
        cost = evaluator.configs.cost_per_request[config] if config is not None else np.nan
        best[function].append(cost)
knee = knee_rate(evaluator, tight, provision_exact)
print(f"knee point r* = {knee:.2f} requests/s for an app with SLO {problem.apps[tight].slo} s")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.plot(rate_grid, best["cpu"], label="best CPU function")
ax.plot(rate_grid, best["gpu"], label="best GPU function")
ax.axvline(knee, color="k", linestyle=":", label=f"knee r* = {knee:.1f} req/s")
ax.set(xscale="log", yscale="log", xlabel="request rate (req/s)")
ax.set(ylabel=f"cost per request ({problem.pricing.currency})", title="App with SLO 0.5 s alone")
ax.legend()
plt.show()

# %% [markdown]
# ## Why batching across SLOs pays
#
# Every app alone (`single`) needs its own function; app1's 0.5 s SLO and 5 req/s are
# below the knee, so it gets a CPU function with batch 1. Merged with the two looser apps,
# its requests ride in larger GPU batches: the tight app borrows the rate of the loose ones,
# the loose ones lend their slack. The cost after each accepted merge is kept in the plan.

# %%
methods = ["batch", "single", "mbs", "harmony"]
plans = {m: hbopt.solve(problem, m) for m in methods}
for name, p in plans.items():
    groups = " | ".join(f"{'+'.join(g.apps)} on {g.function.upper()} b={g.batch}" for g in p.groups)
    print(f"{name:8s} {p.cost_per_hour:7.4f} {problem.pricing.currency}/hour  {groups}")

history = plan.extras["history"]
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.5), layout="constrained")
left.bar(methods, [plans[m].cost_per_hour for m in methods], color=["C7", "C7", "C1", "C2"])
left.set(ylabel=f"{problem.pricing.currency} per hour", title="Cost of each method's plan")
costs = [h["cost"] * problem.total_rate * 3600 for h in history]
merge_labels = [
    f"{h['groups']} groups\n"
    + ("every app alone" if h["stage"] == 0 else f"after stage {h['stage']}")
    for h in history
]
right.plot(range(len(costs)), costs, "o-")
right.set_xticks(range(len(costs)), merge_labels)
right.set(ylabel=f"{problem.pricing.currency} per hour", title="harmony: cost after each merge")
plt.show()
