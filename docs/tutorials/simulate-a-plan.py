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
# # Tutorial 4: simulate a plan before deploying it
#
# A plan is a promise made by a model: every request meets its SLO, and a request costs what
# Eq. 7 says. The simulator checks both promises offline. It replays Poisson arrivals through
# the plan's batching buffers and functions, draws every invocation's latency (CPU: a
# distribution with mean `L_avg` that never exceeds `L_max`; GPU: the time-slicing mechanism
# itself) and bills every invocation on its realised duration.
#
# We simulate two plans for the paper's example: the harmony plan, and the BATCH baseline
# planned with *average* latency, as the BATCH paper does.

# %%
import matplotlib.pyplot as plt
import numpy as np

import hbopt

problem = hbopt.example_problem()
harmony = hbopt.solve(problem, "harmony")
deterministic = hbopt.solve(problem, "batch", deterministic=True)
for plan in (harmony, deterministic):
    groups = ", ".join(
        f"{'+'.join(g.apps)} on {g.function.upper()} (batch {g.batch})" for g in plan.groups
    )
    print(f"{plan.method:8s} status {plan.status.value:10s} {groups}")

# %% [markdown]
# The evaluator already flags the BATCH plan as `infeasible`: its timeouts leave room for
# the average latency only. The simulator shows what that means for requests.

# %%
reports = {
    "harmony": hbopt.simulate(harmony, duration=1800, seed=1),
    "batch (average latency)": hbopt.simulate(deterministic, duration=1800, seed=1),
}
for label, report in reports.items():
    print(f"{label}: {report.requests} requests, {report.violation_rate:.2%} missed their SLO")
    for name, app in report.apps.items():
        print(
            f"  {name}: SLO {app.slo:g} s, p99 {app.p99:.3f} s, max {app.max:.3f} s,"
            f" violations {app.violation_rate:.2%}"
        )

# %% [markdown]
# ## Latency against the SLO
#
# Each curve is the share of an app's requests answered within a given time; the dashed line
# is its SLO. Under the harmony plan every curve reaches 1 before its SLO. Under the
# average-latency BATCH plan, `app2`'s curve crosses its SLO below 1: those requests are late.

# %%
figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for axis, (label, report) in zip(axes, reports.items(), strict=True):
    for name, latency in report.latencies.items():
        ordered = np.sort(latency)
        line = axis.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), label=name)
        axis.axvline(report.apps[name].slo, linestyle="--", color=line[0].get_color())
    axis.set_title(label)
    axis.set_xlabel("end-to-end latency (s)")
axes[0].set_ylabel("share of requests")
axes[0].legend()
figure.tight_layout()

# %% [markdown]
# ## Cost: predicted against realised
#
# Eq. 6 prices a group as if every invocation carried a full batch. In the simulation some
# flushes are triggered by a timeout before the batch is full, and the GPU bills whole
# seconds, so a partial batch costs as much as a full one. The batch-size histogram of the
# harmony plan's GPU group shows it.

# %%
group = reports["harmony"].groups[0]
sizes = sorted(group.batch_histogram)
print(
    f"GPU group: batch {group.batch}, mean realised batch {group.mean_batch:.1f}, "
    f"{group.timeout_flush_share:.0%} of flushes by timeout"
)
for label, report in reports.items():
    change = report.cost_per_request_realised / report.cost_per_request_predicted - 1
    print(
        f"{label}: predicted {report.cost_per_request_predicted:.4e}, realised "
        f"{report.cost_per_request_realised:.4e} ({change:+.1%}) {problem.pricing.currency}"
    )

figure, axis = plt.subplots(figsize=(6, 3.5))
axis.bar(sizes, [group.batch_histogram[s] for s in sizes])
axis.set_xlabel("batch size of a flush")
axis.set_ylabel("flushes")
axis.set_title("harmony plan's GPU group")
figure.tight_layout()

# %% [markdown]
# The harmony plan keeps every SLO and still costs less than BATCH, but less so than Eq. 7
# predicts. `hbopt simulate --plan plan.json` runs the same check from the command line, and
# `hbopt simulate --trace bundled ...` replays the Azure traces, re-planning every minute.
