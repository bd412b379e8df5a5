"""DSP's instance-wise L2,1 sparsity loss on stage outputs, as a training callback.

For a stage output ``F`` of shape ``(batch, channels, time)`` (taken after the stage's
BatchNorm and ReLU) the penalty is ``sum_i sum_c ||F[i, c, :]||_2``: the L2 norm over time of
each channel map, summed over channels (L1, which drives whole channels to zero) and summed
-- not averaged -- over the batch, as the DSP authors' code does (Liu et al., IJCAI 2019,
"instance-wise feature decay"). The training loss becomes
``cross-entropy + lam * sum_l weight_l * penalty(F_l)``.

Stage outputs are read with forward hooks on named modules, so any network works without
changes to its class: a stage is the output of one module (e.g. ``"fcn1"`` of LITE or
``"blocks.0"`` of Inception).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["SparsityLoss", "StageRecorder", "instance_l21"]


def instance_l21(features: torch.Tensor) -> torch.Tensor:
    """``sum_i sum_c ||features[i, c, :]||_2`` of a ``(batch, channels, time)`` tensor."""
    if features.dim() != 3:
        raise ValueError(f"expected (batch, channels, time) features; got shape {features.shape}")
    return torch.linalg.vector_norm(features, ord=2, dim=-1).sum()


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


class SparsityLoss:
    """Training callback adding ``lam * sum_l weight_l * instance_l21(stage_l[:, channels_l])``.

    It has the hooks of :class:`sparsetsc.train.Callback` (``on_train_begin``,
    ``extra_loss``, ``on_train_end``, and no-ops for the others) without importing the
    trainer, so pruning stays below training in the package layout.

    Parameters
    ----------
    stages : sequence of str
        Names of the modules whose outputs are penalised (see ``network.named_modules()``).
    weights : sequence of float, optional
        One weight per stage (default 1 each). DSP: LITE ``[4, 2, 1]``, Inception ``[1] * 6``.
    lam : float, default=1e-5
        Overall strength (the DSP authors' lambda).
    channels : mapping of stage name to slice or index list, optional
        Penalise only these channels of a stage (e.g. LITE's learnable block-1 channels, to
        leave the frozen hand-crafted ones out). Default: every channel.
    """

    def __init__(
        self,
        stages: Sequence[str],
        weights: Sequence[float] | None = None,
        lam: float = 1e-5,
        channels: Mapping[str, slice | Sequence[int]] | None = None,
    ) -> None:
        self.stages = list(stages)
        if not self.stages:
            raise ValueError("SparsityLoss needs at least one stage")
        self.weights = [1.0] * len(self.stages) if weights is None else [float(w) for w in weights]
        if len(self.weights) != len(self.stages):
            raise ValueError(
                f"need one weight per stage: {len(self.stages)} stages, {len(self.weights)} weights"
            )
        if not lam >= 0:
            raise ValueError(f"lam must be >= 0; got {lam}")
        self.lam = float(lam)
        unknown = set(channels or {}) - set(self.stages)
        if unknown:
            raise ValueError(f"channels given for stages that are not penalised: {sorted(unknown)}")
        self.channels = dict(channels or {})
        self._recorder: StageRecorder | None = None

    def penalty(self, outputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``sum_l weight_l * instance_l21`` over the stage outputs (without ``lam``)."""
        total = None
        for name, weight in zip(self.stages, self.weights, strict=True):
            features = outputs[name]
            selected = self.channels.get(name)
            if selected is not None:
                if not isinstance(selected, slice):
                    selected = torch.as_tensor(selected, device=features.device)
                features = features[:, selected]
            term = weight * instance_l21(features)
            total = term if total is None else total + term
        return total

    def on_train_begin(self, state: Any) -> None:
        self._recorder = StageRecorder(state.network, self.stages)

    def extra_loss(self, state: Any) -> torch.Tensor | None:
        if self._recorder is None:
            raise RuntimeError("SparsityLoss.extra_loss before on_train_begin")
        loss = self.lam * self.penalty(self._recorder.outputs)
        self._recorder.clear()  # the graph is in the loss now; do not keep it alive
        return loss

    def on_after_backward(self, state: Any) -> None:
        pass

    def on_step_end(self, state: Any) -> None:
        pass

    def on_epoch_end(self, state: Any, record: dict[str, Any]) -> None:
        pass

    def on_train_end(self, state: Any) -> None:
        if self._recorder is not None:
            self._recorder.remove()
            self._recorder = None
