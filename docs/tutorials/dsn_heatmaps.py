# %% [markdown]
# # DSN and its tap heatmaps
#
# A dynamic sparse network (DSN) learns *which* taps of its large kernels to use. This
# tutorial fits one on the bundled GunPoint dataset at a short budget, reads its real
# density, and draws what its sparse layers learned: the effective neighbour receptive
# field (eNRF) of every kernel per group, and the heatmaps of active taps (the DSN paper's
# Fig. 8). It runs in about 15 s on 2 CPU cores.
#
# The budget here is 25 epochs instead of the published 1000, so the figures show a young
# topology; run `sparsetsc fit --model dsn --dataset GunPoint --out dsn-model` and
# `sparsetsc analyze dsn-model --out figures` for the published one.

# %% [markdown]
# The plotting functions return a matplotlib `Figure` without touching pyplot's global
# state; Jupyter shows one returned by a cell once its inline backend is on (`savefig` it
# in a script).

# %%
# %matplotlib inline
import numpy as np
import pandas as pd

import sparsetsc
from sparsetsc.sparse import (
    analyze,
    plot_enrf_histograms,
    plot_tap_heatmaps,
)

X_train, y_train, X_test, y_test = sparsetsc.load_train_test("GunPoint")
print(X_train.shape, np.unique(y_train))

# %% [markdown]
# ## Fit
#
# The hyper-parameters are the official ones (3 kernel groups of a 39-tap kernel, `density`
# 0.2 relative to each group's region) except the number of epochs.

# %%
dsn = sparsetsc.DSNClassifier(n_epochs=25, random_state=0)
dsn.fit(X_train, y_train)
print(f"test accuracy {dsn.score(X_test, y_test):.3f}")
print(f"real density of a large kernel: {dsn.real_density_:.4f}")
for layer, counts in dsn.nonzero_per_group_.items():
    print(layer, "non-zero weights per group:", counts)

# %% [markdown]
# `density=0.2` keeps 20 % of each group's *region* (13, 26 and 39 taps), so a layer keeps
# 13.3 % of its full 39-tap kernel, and the groups with larger regions hold more weights.
#
# ## Effective receptive fields
#
# The eNRF of one kernel is the span from its first to its last active tap. If the groups
# really learn different receptive fields, their distributions separate.

# %%
analysis = analyze(dsn)
columns = ["layer", "group", "tap_start", "tap_stop", "kernels"]
columns += ["empty_kernels", "enrf_mean", "enrf_max"]
pd.DataFrame(analysis["layers"])[columns].round(1)

# %%
plot_enrf_histograms(dsn.network_)

# %% [markdown]
# ## Tap heatmaps
#
# Each cell counts the active input channels of one (output channel, tap); the dashed line
# marks the end of the group's search region. One layer here; `plot_tap_heatmaps(network)`
# without `layer=` draws them all.

# %%
first_layer = analysis["layers"][0]["layer"]
plot_tap_heatmaps(dsn.network_, layer=first_layer)

# %% [markdown]
# ## Cost
#
# Only the non-zero weights count in `params_nonzero` and `macs`; `macs_dense` is what the
# same network would cost with dense kernels. On CPU the fitted model predicts through a
# kernel that skips the zeros ([Deployment](../../user-guide/deployment/)).

# %%
from sparsetsc.cost import estimator_cost

print(estimator_cost(dsn).totals())
