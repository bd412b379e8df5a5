"""Descriptions of a network's prunable stages, and the helpers that read them.

A stage is a feature map that a structured-pruning method may thin out channel by channel:
the output of one module (read with a forward hook), whose channels are the output channels
of one BatchNorm or convolution (the root from which a dependency graph finds every weight
tied to a channel). Networks describe their stages with :class:`PrunableStage` (sparsetsc's
own networks through ``prunable_stages()``; any other network by a list the caller passes),
so pruning code never needs to know the network's class.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "PooledStages",
    "PrunableStage",
    "StageRecorder",
    "stage_outputs",
    "stage_width",
    "stage_widths",
    "stages_of",
]


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


class PooledStages(nn.Module):
    """A network made of stages whose last output is averaged over time into a linear ``head``.

    Subclasses build ``self.head`` and define :meth:`_stages`; ``forward_stages`` then gives
    the logits and every stage output (what DSP's sparsity loss and analysis read).
    """

    head: nn.Linear

    def _stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(batch, channels, time) -> every stage's output, in order."""
        raise NotImplementedError

    def forward_stages(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(batch, channels, time) -> (class logits, [stage outputs])."""
        stages = self._stages(x)
        return self.head(stages[-1].mean(dim=-1)), stages

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> the last stage averaged over time (batch, channels)."""
        return self._stages(x)[-1].mean(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> class logits (batch, n_classes)."""
        return self.head(self.forward_features(x))


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


def stage_outputs(
    network: nn.Module, X: np.ndarray | torch.Tensor, names: Sequence[str], batch_size: int
) -> Iterator[dict[str, torch.Tensor]]:
    """The outputs of the named modules for ``X``, one batch at a time.

    The network runs without gradients in eval mode (BatchNorm with its running statistics)
    on the device of its parameters; its mode is restored when the iteration ends.
    """
    reference = next(network.parameters())
    inputs = torch.as_tensor(X, dtype=torch.float32)
    was_training = network.training
    network.eval()
    try:
        with StageRecorder(network, names) as recorder:
            for start in range(0, len(inputs), batch_size):
                with torch.no_grad():
                    network(inputs[start : start + batch_size].to(reference.device))
                yield {name: recorder[name] for name in names}
    finally:
        network.train(was_training)
