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


#: Joint-histogram keys counted at once; bounds the memory of wide stages on long series.
_KEYS_PER_BLOCK = 1 << 22


def _pairwise_mutual_information(maps: np.ndarray) -> float:
    """Sum over channel pairs ``a < b`` of ``MI(map_a, map_b)`` (nats), ``maps`` (C, T).

    ``MI(a, b) = H(a) + H(b) - H(a, b)``, and an entropy of counts ``n`` out of ``T`` is
    ``log T - sum(n log n) / T``: the sum needs only the joint counts of every pair, which
    one ``bincount`` per block of pairs gives, and a table of ``n log n``.
    """
    n_channels, n_times = maps.shape
    low, high = maps.min(axis=1, keepdims=True), maps.max(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    codes = np.minimum(((maps - low) / span * N_BINS).astype(np.int64), N_BINS - 1)
    counts = np.arange(n_times + 1, dtype=np.float64)
    n_log_n = counts * np.log(np.maximum(counts, 1.0))

    def summed_entropies(histograms: np.ndarray, n_histograms: int) -> float:
        """Sum of the entropies of ``n_histograms`` histograms of ``n_times`` counts each,
        laid end to end in ``histograms``."""
        return n_histograms * np.log(n_times) - n_log_n[histograms].sum() / n_times

    channel_keys = codes + (np.arange(n_channels) * N_BINS)[:, None]
    marginal = np.bincount(channel_keys.ravel(), minlength=n_channels * N_BINS)
    marginal_entropies = summed_entropies(marginal, n_channels)

    first, second = np.triu_indices(n_channels, k=1)
    joint_entropies = 0.0
    pairs_per_block = max(1, _KEYS_PER_BLOCK // n_times)
    for start in range(0, len(first), pairs_per_block):
        a, b = first[start : start + pairs_per_block], second[start : start + pairs_per_block]
        keys = codes[a] * N_BINS + codes[b] + (np.arange(len(a)) * N_BINS**2)[:, None]
        joint = np.bincount(keys.ravel(), minlength=len(a) * N_BINS**2)
        joint_entropies += summed_entropies(joint, len(a))
    # each channel's entropy enters the n_channels - 1 pairs it is part of; the difference
    # of entropies may round a hair below the true 0 of independent channels
    return max(0.0, float((n_channels - 1) * marginal_entropies - joint_entropies))


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
