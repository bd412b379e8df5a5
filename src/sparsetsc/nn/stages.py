"""Descriptions of a network's prunable stages, and the helpers that read them.

A stage is a feature map that a structured-pruning method may thin out channel by channel:
the output of one module (read with a forward hook), whose channels are the output channels
of one BatchNorm or convolution (the root from which a dependency graph finds every weight
tied to a channel). Networks describe their stages with :class:`PrunableStage` (sparsetsc's
own networks through ``prunable_stages()``; any other network by a list the caller passes),
so pruning code never needs to know the network's class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["PrunableStage", "StageRecorder", "stage_width", "stage_widths", "stages_of"]


@dataclass(frozen=True)
class PrunableStage:
    """One prunable stage of a network.

    Parameters
    ----------
    output : str
        Name of the module whose output is the stage's feature map (after BN and ReLU).
    root : str
        Name of the BatchNorm (or convolution) whose output channels are the stage's channels.
    groups : tuple of slice
        Channel groups that must each keep at least one channel (e.g. the branches of a
        concatenation, or the whole stage).
    fixed : tuple of slice
        Channels that are never removed (e.g. frozen hand-crafted filters).
    """

    output: str
    root: str
    groups: tuple[slice, ...] = field(default=())
    fixed: tuple[slice, ...] = field(default=())

    def fixed_mask(self, width: int) -> np.ndarray:
        """Boolean mask over the stage's ``width`` channels: ``True`` where a channel is fixed."""
        mask = np.zeros(width, dtype=bool)
        for channels in self.fixed:
            mask[channels] = True
        return mask


def stages_of(network: nn.Module) -> list[PrunableStage]:
    """The prunable stages a network describes (``network.prunable_stages()``)."""
    if not hasattr(network, "prunable_stages"):
        raise ValueError(
            f"{type(network).__name__} does not describe its prunable stages; pass stages="
            "[PrunableStage(output=..., root=...), ...]"
        )
    return list(network.prunable_stages())


def stage_width(root: nn.Module) -> int:
    """Channels of a stage: its root BatchNorm's features or root convolution's outputs."""
    if isinstance(root, nn.modules.batchnorm._BatchNorm):
        return root.num_features
    if isinstance(root, nn.Conv1d):
        return root.out_channels
    raise ValueError(f"a stage root must be a BatchNorm or a Conv1d; got {type(root).__name__}")


def stage_widths(network: nn.Module, stages: Sequence[PrunableStage]) -> dict[str, int]:
    """Channels of every stage of ``network``, by stage output name."""
    modules = dict(network.named_modules())
    missing = [stage.root for stage in stages if stage.root not in modules]
    if missing:
        raise ValueError(f"{type(network).__name__} has no stage roots {missing}")
    return {stage.output: stage_width(modules[stage.root]) for stage in stages}


class StageRecorder:
    """Keep the latest output of each named module of ``network`` (forward hooks).

    ``recorder[name]`` is the output of module ``name`` in the most recent forward pass.
    Use as a context manager, or call :meth:`remove` when done.
    """

    def __init__(self, network: nn.Module, names: Sequence[str]) -> None:
        modules = dict(network.named_modules())
        missing = [name for name in names if name not in modules]
        if missing:
            raise ValueError(
                f"{type(network).__name__} has no modules {missing}; stage outputs must be "
                "outputs of named submodules"
            )
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = [
            modules[name].register_forward_hook(self._hook(name)) for name in dict.fromkeys(names)
        ]

    def _hook(self, name: str) -> Any:
        def store(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            self.outputs[name] = output

        return store

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self.outputs:
            raise KeyError(f"stage {name!r} produced no output yet (was the network run?)")
        return self.outputs[name]

    def clear(self) -> None:
        """Drop the recorded outputs (and the autograd graphs they hold)."""
        self.outputs.clear()

    def remove(self) -> None:
        """Unregister the hooks and drop the recorded outputs."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.clear()

    def __enter__(self) -> StageRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()
