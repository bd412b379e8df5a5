# %% [markdown]
# # DSP on LITE and on your own network
#
# Dynamic structured pruning (DSP) trains a network with a sparsity loss on its channel
# activations, counts how often each channel is active on the training series, removes the
# filters that are not, and retrains the smaller network. This tutorial runs it on LITE
# and on a plain `nn.Sequential` of your own, and plots the widths each layer keeps. It
# runs in about half a minute on 2 CPU cores.
#
# **The budget.** The published budget is 1500 epochs of sparsity training and 1500 of
# retraining; DSP then keeps 1,841 of LITE's 10,318 parameters on GunPoint. At the 200 + 200
# epochs used here the published λ = 1e-5 has barely started to silence channels, so this
# tutorial raises λ to 1e-4 to make the effect visible in seconds. Use the defaults for
# real work ([DSP, budgets](../../user-guide/dsp/#budgets)).

# %%
import matplotlib.pyplot as plt
import numpy as np

import sparsetsc

X_train, y_train, X_test, y_test = sparsetsc.load_train_test("GunPoint")

# %% [markdown]
# ## DSP-LITE

# %%
dsp = sparsetsc.DSPClassifier(
    backbone="lite", lam=1e-4, n_epochs=200, random_state=0
)
dsp.fit(X_train, y_train)
print(f"test accuracy {dsp.score(X_test, y_test):.3f}")
print("compression:", {k: round(v, 3) for k, v in dsp.compression_.items()})
print("kept widths per stage:", dsp.kept_widths_)
print("kept widths per branch:", dsp.dsp_group_widths_)

# %% [markdown]
# LITE's first block has three branches (kernels 40, 20 and 10) of 32 filters each, and its
# two FCN modules 32 filters each. Each branch keeps at least one filter.

# %%
labels, kept = [], []
for stage, widths in dsp.dsp_group_widths_.items():
    for branch, width in enumerate(widths):
        labels.append(
            stage if len(widths) == 1 else f"{stage}\nbranch {branch}"
        )
        kept.append(width)
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(labels, [32] * len(kept), color="lightgray", label="LITE")
ax.bar(labels, kept, color="tab:blue", label="kept by DSP")
ax.set_ylabel("filters")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## The uniform control
#
# A pruning result needs its control: a LITE of the same trainable size whose widths are
# uniform. `uniform_control()` builds it (unfitted); if DSP's per-stage widths matter, DSP
# beats it.

# %%
# trained like DSP's recovery phase
control = dsp.uniform_control().fit(X_train, y_train)
print(f"uniform control: {control.n_filters} filters per branch")
control_params = sum(
    p.numel() for p in control.network_.parameters() if p.requires_grad
)
dsp_params = dsp.pruned_cost_["params_trainable"]
print(f"trainable parameters: DSP-LITE {dsp_params}", end=", ")
print(f"control {control_params}")
for name, model in [("DSP-LITE", dsp), ("control", control)]:
    print(f"test accuracy {name}: {model.score(X_test, y_test):.3f}")

# %% [markdown]
# One dataset and one seed say nothing about which is better; the
# [studies](../../user-guide/studies/) compare them over many datasets.

# %% [markdown]
# ## DSP on your own network
#
# `fit_prune` is the pipeline `DSPClassifier` wraps. It works on any `nn.Module` whose
# prunable stages you name: a stage is the output of one module (here the ReLUs `"2"` and
# `"5"`) and the BatchNorm whose channels are its channels (its *root*).

# %%
from torch import nn

from sparsetsc.nn import PrunableStage
from sparsetsc.prune import DSPConfig, fit_prune
from sparsetsc.train import TrainConfig, seeded

# fit_prune takes class indices
classes, targets = np.unique(y_train, return_inverse=True)
with seeded(0):
    network = nn.Sequential(
        nn.Conv1d(1, 32, 9, padding=4), nn.BatchNorm1d(32), nn.ReLU(),
        nn.Conv1d(32, 32, 5, padding=2), nn.BatchNorm1d(32), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, len(classes)),
    )  # fmt: skip
    stages = [
        PrunableStage(output="2", root="1"),
        PrunableStage(output="5", root="4"),
    ]
    config = DSPConfig(
        lam=1e-4, train=TrainConfig(n_epochs=100, batch_size=16)
    )
    result = fit_prune(
        network,
        sparsetsc.data.znormalize(X_train),
        targets,
        config,
        stages=stages,
    )
print("kept widths:", result.kept_widths)
print("parameters:", result.base_cost.params, "->", result.cost.params)
print(result.network)

# %%
fig, ax = plt.subplots(figsize=(4, 3))
names = list(result.kept_widths)
ax.bar(names, [32] * len(names), color="lightgray", label="before")
ax.bar(
    names,
    list(result.kept_widths.values()),
    color="tab:orange",
    label="kept",
)
ax.set_xlabel("stage (module name)")
ax.set_ylabel("channels")
ax.legend()
fig.tight_layout()
