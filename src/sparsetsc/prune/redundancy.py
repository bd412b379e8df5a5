"""Redundancy of a stage's channels: how much its feature maps repeat one another.

The DSP authors compared, per layer, a base network with its sparsity-trained twin on the
training set's feature maps with three measures, all computed per instance and averaged:

* **mutual information**: the sum over channel pairs of the mutual information between the
  two channel maps, each L2-normalised over time and discretised into 16 equal-width bins
  between its minimum and maximum (a constant map carries no information);
* **effective rank**: over the *active* channels (L1 activation above the instance's mean
  over channels), ``exp(entropy(s / sum(s)))`` of the singular values ``s`` of the
  ``(active channels, time)`` matrix, divided by the number of active channels (1: no two
  channels alike; ``1/k``: all alike);
* **95 % energy**: the fraction of those singular values needed to hold 95 % of
  ``sum(s**2)``.

Low mutual information and a high effective rank mean compact, non-redundant channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..nn.stages import PrunableStage, stage_outputs, stages_of

__all__ = ["N_BINS", "instance_redundancy", "redundancy"]

#: Histogram bins per channel map for the mutual information, as the authors used.
N_BINS = 16


def _pairwise_mutual_information(maps: np.ndarray) -> float:
    """Sum over channel pairs ``a < b`` of ``MI(map_a, map_b)`` (nats), ``maps`` (C, T)."""
    n_channels, n_times = maps.shape
    low, high = maps.min(axis=1, keepdims=True), maps.max(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    codes = np.minimum(((maps - low) / span * N_BINS).astype(np.int64), N_BINS - 1)
    one_hot = np.zeros((n_channels, N_BINS, n_times))
    np.put_along_axis(one_hot, codes[:, None, :], 1.0, axis=1)
    flat = one_hot.reshape(n_channels * N_BINS, n_times)
    joint = (flat @ flat.T / n_times).reshape(n_channels, N_BINS, n_channels, N_BINS)
    marginal = one_hot.mean(axis=2)  # (C, bins)
    expected = marginal[:, :, None, None] * marginal[None, None, :, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / expected), 0.0)
    pair_information = terms.sum(axis=(1, 3))  # (C, C)
    return float(np.triu(pair_information, k=1).sum())


def instance_redundancy(features: np.ndarray) -> dict[str, float]:
    """The three measures for one instance's ``(channels, time)`` feature map."""
    features = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    normalised = features / np.where(norms > 0, norms, 1.0)
    information = _pairwise_mutual_information(normalised)
    activity = np.abs(features).sum(axis=1)
    active = features[activity > activity.mean()]
    if len(active) == 0:
        return {"mutual_information": information, "effective_rank": 0.0, "energy95": 0.0}
    singular = np.linalg.svd(active, compute_uv=False)
    if singular.sum() == 0:
        return {"mutual_information": information, "effective_rank": 0.0, "energy95": 0.0}
    share = singular / singular.sum()
    entropy = -np.sum(share[share > 0] * np.log(share[share > 0]))
    energy = np.cumsum(singular**2) / np.sum(singular**2)
    needed = int(np.searchsorted(energy, 0.95) + 1)
    return {
        "mutual_information": information,
        "effective_rank": float(np.exp(entropy) / len(active)),
        "energy95": needed / len(active),
    }


@torch.no_grad()
def redundancy(
    network: nn.Module,
    X: np.ndarray | torch.Tensor,
    stages: Sequence[PrunableStage] | None = None,
    batch_size: int = 64,
) -> dict[str, dict[str, float]]:
    """Mean of :func:`instance_redundancy` over the instances of ``X``, per stage.

    The network runs in eval mode on the device of its parameters; its mode is restored.
    """
    names = [stage.output for stage in (stages or stages_of(network))]
    totals = {
        name: {"mutual_information": 0.0, "effective_rank": 0.0, "energy95": 0.0} for name in names
    }
    for outputs in stage_outputs(network, X, names, batch_size):
        for name, batch in outputs.items():
            for features in batch.cpu().numpy():
                for key, value in instance_redundancy(features).items():
                    totals[name][key] += value
    return {name: {k: v / len(X) for k, v in measures.items()} for name, measures in totals.items()}
