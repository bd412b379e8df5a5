"""Physically remove channels from a network: a smaller dense network, same function.

Which channels go is decided per *stage* (DSP's analysis: :mod:`.dsp`); how removing a channel
ripples through the network -- the producing convolutions of a concatenation, the BatchNorm,
depthwise and pointwise consumers, the bottleneck and max-pool 1x1 convolutions reading the
stage, both sides of a residual add, the classifier -- is worked out by torch-pruning's
dependency graph (Fang et al., "DepGraph", CVPR 2023) from one traced forward pass. Nothing
here knows a model class: a stage (:class:`~sparsetsc.nn.stages.PrunableStage`) is named by
its output module and by the BatchNorm whose channels are the stage's channels (the pruning
root). sparsetsc's networks describe their own stages (``prunable_stages()``); for any other
network, pass the stages.

The frozen hand-crafted filters are a leaf of the graph that is never pruned: their
channels always stay.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch_pruning as tp
from torch import nn

from ..nn.handcrafted import HandCraftedFilters
from ..nn.region_conv import RegionConv1d, full_kernels
from ..nn.stages import PrunableStage, stage_width, stages_of

__all__ = ["rebuild_from_shapes", "remove_channels"]


class _HandCraftedPruner(tp.pruner.function.BasePruningFunc):
    """Lets the dependency graph size the hand-crafted filter bank; it is never pruned."""

    TARGET_MODULES = HandCraftedFilters

    def prune_out_channels(self, layer: nn.Module, idxs: list[int]) -> nn.Module:
        raise ValueError("the hand-crafted filters are never pruned")

    prune_in_channels = prune_out_channels

    def get_out_channels(self, layer: HandCraftedFilters) -> int:
        return layer.out_channels

    def get_in_channels(self, layer: HandCraftedFilters) -> int:
        return layer.n_channels


def remove_channels(
    network: nn.Module,
    keep: Mapping[str, np.ndarray],
    example_input: torch.Tensor,
    stages: Sequence[PrunableStage] | None = None,
) -> nn.Module:
    """A copy of ``network`` without the channels that ``keep`` drops.

    Parameters
    ----------
    network : nn.Module
        The trained network (left untouched).
    keep : mapping of stage output name to boolean array
        For each stage (by :attr:`PrunableStage.output`), which of its channels stay.
        Stages not in ``keep`` are left whole.
    example_input : Tensor
        One input batch, ``(batch, channels, time)``, to trace the network with.
    stages : sequence of PrunableStage, optional
        Where the stages are; default: the network's own description.

    Returns
    -------
    nn.Module
        The pruned copy, in eval mode. It computes what ``network`` computes with the dropped
        stage channels set to zero.
    """
    by_output = {stage.output: stage for stage in (stages or stages_of(network))}
    unknown = sorted(set(keep) - set(by_output))
    if unknown:
        raise ValueError(f"unknown stages {unknown}; the stages are {sorted(by_output)}")
    pruned = copy.deepcopy(network).eval()
    reference = next(pruned.parameters())
    example = example_input.to(reference.device, reference.dtype).clone().requires_grad_()
    modules = dict(pruned.named_modules())
    # Trace on plain convolutions (region-restricted ones run dense; their masked weights are
    # zero outside the regions anyway) with an input that requires grad, so that even the
    # layers reading only frozen weights appear in the graph.
    removed_outputs: list[tuple[RegionConv1d, list[int]]] = []
    with full_kernels(pruned):
        graph = tp.DependencyGraph().build_dependency(
            pruned,
            example_inputs=example,
            customized_pruners={HandCraftedFilters: _HandCraftedPruner()},
            verbose=False,
        )
        for name, mask in keep.items():
            root = modules[by_output[name].root]
            width = stage_width(root)
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (width,):
                raise ValueError(
                    f"stage {name!r}: keep has {mask.shape} entries, the stage has {width} channels"
                )
            drop = np.flatnonzero(~mask).tolist()
            if not drop:
                continue
            if len(drop) == len(mask):
                raise ValueError(f"stage {name!r} would lose every channel; keep at least one")
            prune_root = (
                tp.prune_batchnorm_out_channels
                if isinstance(root, nn.modules.batchnorm._BatchNorm)
                else tp.prune_conv_out_channels
            )
            group = graph.get_pruning_group(root, prune_root, idxs=drop)
            if any(isinstance(item.dep.target.module, HandCraftedFilters) for item in group.items):
                raise ValueError(
                    f"stage {name!r}: the hand-crafted filters are never pruned; keep their "
                    "channels"
                )
            if not graph.check_pruning_group(group):
                raise ValueError(f"stage {name!r}: torch-pruning refuses to remove {drop}")
            for item in group.items:
                module = item.dep.target.module
                removes_outputs = item.dep.handler == tp.prune_conv_out_channels
                if isinstance(module, RegionConv1d) and removes_outputs:
                    removed_outputs.append((module, list(item.idxs)))
            group.prune()
    # full_kernels restored the old kernel-group regions; shrink them to the kept channels.
    for module, removed in removed_outputs:
        module.regions = _shrink_regions(module.regions, removed)
    return pruned


def _shrink_regions(
    regions: list[tuple[int, int, int, int]], removed: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    # Each kept output channel keeps its group's taps; groups stay contiguous and in order.
    removed = set(removed)
    shrunk, start = [], 0
    for out_start, out_stop, tap_start, tap_stop in regions:
        kept = sum(1 for c in range(out_start, out_stop) if c not in removed)
        if kept:
            shrunk.append((start, start + kept, tap_start, tap_stop))
            start += kept
    return shrunk


def rebuild_from_shapes(pruned: nn.Module) -> nn.Module:
    """A fresh instance of a sparsetsc network built from its pruned shapes, with its weights.

    The network's class describes its current shapes as a config
    (``config_from_shapes()``, e.g. LITE's per-branch widths), so the result saves, loads and
    rebuilds like any other network; loading the pruned weights strictly checks that the
    config describes them exactly.
    """
    if not hasattr(pruned, "config_from_shapes"):
        raise ValueError(
            f"{type(pruned).__name__} cannot describe its pruned shapes as a config; "
            "use the pruned module itself"
        )
    rebuilt = type(pruned)(pruned.config_from_shapes())
    rebuilt.load_state_dict(pruned.state_dict(), strict=True)
    reference = next(pruned.parameters())
    return rebuilt.to(reference.device).train(pruned.training)
