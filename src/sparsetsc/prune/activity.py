"""DSP's global activation analysis: which channels of each stage a trained network uses.

For every training instance ``i`` and channel ``c`` of a stage output, ``n[i, c]`` is the L2
norm over time of the channel map. The instance's threshold is
``mu_i = sum_c n[i, c] / (nnz_i + 1)``, ``nnz_i`` being its number of channels with
``n[i, c] != 0`` (about the mean norm of its active channels; the +1 guards an all-zero
instance), and channel ``c`` is active for instance ``i`` when ``n[i, c] > mu_i``. A channel
is kept when the number of instances where it is active exceeds ``min_count`` (the authors
used 1 for LITE and 0 for Inception). There is no pruning ratio: what survives is what the
data uses. Guards then keep at least one channel per declared group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .loss import StageRecorder

__all__ = ["active_channels", "channel_activity", "guard_groups", "keep_channels"]


def active_channels(norms: torch.Tensor) -> torch.Tensor:
    """Activity ``n[i, c] > sum_c n[i, c] / (nnz_i + 1)`` of ``(instances, channels)`` norms."""
    if norms.dim() != 2:
        raise ValueError(f"expected (instances, channels) norms; got shape {tuple(norms.shape)}")
    nonzero = (norms != 0).sum(dim=1, keepdim=True)
    threshold = norms.sum(dim=1, keepdim=True) / (nonzero + 1)
    return norms > threshold


@torch.no_grad()
def channel_activity(
    network: nn.Module,
    X: np.ndarray | torch.Tensor,
    stages: Sequence[str],
    channels: Mapping[str, slice | Sequence[int]] | None = None,
    batch_size: int = 256,
) -> dict[str, np.ndarray]:
    """For each stage, in how many instances of ``X`` each channel is active.

    The network runs in eval mode (BatchNorm with its running statistics) on the device of
    its parameters; its mode is restored afterwards. ``channels`` restricts a stage to some of
    its channels (e.g. LITE's learnable block-1 channels): the threshold is then computed
    over those channels only, as the authors do.
    """
    reference = next(network.parameters())
    channels = {
        name: selected
        if isinstance(selected, slice)
        else torch.as_tensor(list(selected), dtype=torch.long, device=reference.device)
        for name, selected in (channels or {}).items()
    }
    inputs = torch.as_tensor(X, dtype=torch.float32)
    counts: dict[str, torch.Tensor] = {}
    was_training = network.training
    network.eval()
    try:
        with StageRecorder(network, stages) as recorder:
            for start in range(0, len(inputs), batch_size):
                network(inputs[start : start + batch_size].to(reference.device))
                for name in stages:
                    features = recorder[name]
                    if name in channels:
                        features = features[:, channels[name]]
                    norms = torch.linalg.vector_norm(features, ord=2, dim=-1)
                    active = active_channels(norms).sum(dim=0)
                    counts[name] = active if name not in counts else counts[name] + active
    finally:
        network.train(was_training)
    return {name: counts[name].cpu().numpy() for name in stages}


def keep_channels(counts: np.ndarray, min_count: int) -> np.ndarray:
    """Boolean keep-mask: channels active in more than ``min_count`` instances."""
    return np.asarray(counts) > min_count


def guard_groups(keep: np.ndarray, groups: Sequence[slice]) -> np.ndarray:
    """Keep the first channel of every group in which nothing survived (a copy of ``keep``).

    DSP's guards: every LITE branch and FCN layer keeps at least one filter, so the rebuilt
    network has no empty layer.
    """
    guarded = np.array(keep, dtype=bool, copy=True)
    for group in groups:
        if group.stop > group.start and not guarded[group].any():
            guarded[group.start] = True
    return guarded
