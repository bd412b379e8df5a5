"""Dynamic sparse training (DST) with kernel groups and search regions, for any ``nn.Conv1d``.

This is DSN's training rule (Xiao et al., NeurIPS 2022), written model-agnostically:

* every selected convolution's output channels are split into kernel groups, each with a tap
  region: a convolution that carries ``regions`` (a
  :class:`~sparsetsc.nn.region_conv.RegionConv1d`) brings its own, any other ``Conv1d`` gets
  :func:`~sparsetsc.nn.region_conv.kernel_group_regions` of ``n_groups`` and ``anchor``;
* each group gets a fixed non-zero budget ``int(region_size * density)`` -- ``density`` is
  relative to the group's region, as the official ``--density`` flag is, so the real density
  of a layer is lower (:func:`real_density`: 0.2 -> 13.3 % at k=39, 3 groups);
* every ``update_every`` epochs each group drops its ``ceil(fraction * budget)`` smallest
  active weights and grows as many inside its region: uniformly at random (DSN-rand) or
  where the last batch's dense gradient is largest (DSN-grad, RigL-style). The fraction
  follows a cosine from ``drop_fraction`` to ``final_drop_fraction`` over the first
  ``decay_end`` of the optimizer steps and then stays there. ``fix=True`` keeps the initial
  topology (DSN-fix).

Deviations from the official code, on purpose: the mask is applied right after an update
(the official code forgets to, so just-pruned weights act for one more batch); exactly
``ceil(fraction * budget)`` weights are dropped even with tied magnitudes; no update runs after
the last epoch. Regrown weights start at zero as in the official code; with
``reset_optimizer_state=True`` (default) their Adam moments are zeroed too (RigL's choice),
whereas the official code keeps moments accumulated while the weight was inactive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..nn.region_conv import kernel_group_regions
from ..train import Callback, TrainState
from .masks import KernelMask, attach_mask

__all__ = [
    "DSTConfig",
    "KernelGroup",
    "SparseLayer",
    "DynamicSparseTraining",
    "drop_fraction_at",
    "real_density",
]

INITS = ("remain_sort", "random")
GROWTHS = ("random", "gradient")


@dataclass
class DSTConfig:
    """Settings of :class:`DynamicSparseTraining` (official DSN values as defaults)."""

    density: float = 0.2
    """Fraction of each kernel group's *region* kept non-zero (the official ``--density``)."""
    n_groups: int | None = None
    """Kernel groups of a convolution without its own regions (``None``: DSN's 3). A
    convolution that carries regions keeps them; a value here then only checks them."""
    anchor: str | None = None
    """Where such a convolution's regions start: ``"left"`` (``None``) or ``"center"``."""
    init: str = "remain_sort"
    """Initial active positions: the official leading taps, or ``"random"`` in the region."""
    growth: str = "random"
    """Regrowth rule: uniformly at random (DSN-rand) or ``"gradient"`` (DSN-grad, RigL)."""
    update_every: int = 5
    """Epochs between prune / regrow updates (Delta T)."""
    drop_fraction: float = 0.5
    """Fraction of each group's non-zeros swapped at the first update."""
    final_drop_fraction: float = 0.001
    """Fraction swapped once the cosine decay has ended."""
    decay_end: float = 0.8
    """Share of the optimizer steps over which the swap fraction decays."""
    fix: bool = False
    """Keep the initial topology (DSN-fix, static sparse training)."""
    reset_optimizer_state: bool = True
    """Zero the Adam moments of regrown weights (RigL; the official code keeps them)."""
    min_kernel_size: int = 5
    """Smaller kernels (the 1x1 bottlenecks) stay dense, as in the official code."""

    def __post_init__(self) -> None:
        if not 0.0 < self.density <= 1.0:
            raise ValueError(f"density must be in (0, 1]; got {self.density}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {self.init!r}")
        if self.growth not in GROWTHS:
            raise ValueError(f"growth must be one of {GROWTHS}; got {self.growth!r}")
        if self.update_every < 1:
            raise ValueError(f"update_every must be >= 1 epoch; got {self.update_every}")
        if not 0.0 <= self.final_drop_fraction <= self.drop_fraction <= 1.0:
            raise ValueError("need 0 <= final_drop_fraction <= drop_fraction <= 1")
        if not 0.0 < self.decay_end <= 1.0:
            raise ValueError(f"decay_end must be in (0, 1]; got {self.decay_end}")


def drop_fraction_at(step: int, total_steps: int, config: DSTConfig) -> float:
    """Fraction of each group's active weights swapped at optimizer step ``step``."""
    decay_steps = config.decay_end * total_steps
    if step >= decay_steps:
        return config.final_drop_fraction
    cosine = (1 + math.cos(math.pi * step / decay_steps)) / 2
    return config.final_drop_fraction + (config.drop_fraction - config.final_drop_fraction) * cosine


def _budget(out_channels: int, in_channels: int, taps: int, density: float) -> int:
    # int() truncation as in the official code: 47 x 47 x 13 x 0.2 -> 5743
    return int(out_channels * in_channels * taps * density)


def real_density(
    density: float,
    kernel_size: int,
    n_groups: int,
    out_channels: int = 141,
    in_channels: int = 47,
    anchor: str = "left",
) -> float:
    """Fraction of a conv weight that is non-zero for the official ``density`` flag.

    ``density`` applies to each group's region, so the layer's density is
    ``sum_g int(region_g * density) / weight size`` (about ``2/3 * density`` at 3 groups).
    """
    regions = kernel_group_regions(out_channels, kernel_size, n_groups, anchor)
    nonzero = sum(_budget(o1 - o0, in_channels, t1 - t0, density) for o0, o1, t0, t1 in regions)
    return nonzero / (out_channels * in_channels * kernel_size)


@dataclass
class KernelGroup:
    """Output channels ``[out_start, out_stop)`` restricted to taps ``[tap_start, tap_stop)``."""

    out_start: int
    out_stop: int
    tap_start: int
    tap_stop: int
    budget: int  # non-zeros kept in this group, constant over training


@dataclass
class SparseLayer:
    """One masked convolution under DST."""

    name: str
    module: nn.Module
    mask: KernelMask
    groups: list[KernelGroup]
    ever_active: torch.Tensor = field(repr=False, default=None)  # union of all masks so far


#: Kernel groups of a convolution without regions when DSTConfig leaves them unset (DSN's).
DEFAULT_GROUPS = 3
DEFAULT_ANCHOR = "left"


class DynamicSparseTraining(Callback):
    """DST for chosen ``Conv1d`` layers; a callback of :func:`sparsetsc.train.fit_network`.

    Parameters
    ----------
    config : DSTConfig
    seed : int
        Seeds the random initialisation and random growth.
    layers : list of str, optional
        Names (``model.named_modules()``) of the convolutions to sparsify; default: every
        ``nn.Conv1d`` (subclasses included) with a kernel of at least ``min_kernel_size``.
    """

    def __init__(self, config: DSTConfig, seed: int = 0, layers: list[str] | None = None):
        self.config = config
        self.layer_names = layers
        self.generator = torch.Generator().manual_seed(seed)
        self.layers: list[SparseLayer] = []
        self.updates: list[dict[str, Any]] = []
        self._optimizer: torch.optim.Optimizer | None = None

    # ------------------------------------------------------------------ set-up
    def attach(self, model: nn.Module) -> list[SparseLayer]:
        """Put masks on the selected convolutions and initialise them."""
        if self.layers:
            raise RuntimeError("this DynamicSparseTraining is already attached to a model")
        modules = dict(model.named_modules())
        if self.layer_names is not None:
            missing = [n for n in self.layer_names if n not in modules]
            if missing:
                raise ValueError(f"no module named {missing} in the model")
            chosen = [(n, modules[n]) for n in self.layer_names]
        else:
            chosen = [
                (n, m)
                for n, m in modules.items()
                if isinstance(m, nn.Conv1d) and m.kernel_size[0] >= self.config.min_kernel_size
            ]
        for name, module in chosen:
            if not isinstance(module, nn.Conv1d) or module.groups != 1:
                raise ValueError(f"{name}: DST needs a Conv1d with groups=1")
            in_channels = module.weight.shape[1]
            density = self.config.density
            regions = self._regions(name, module)
            groups = [
                KernelGroup(o0, o1, t0, t1, _budget(o1 - o0, in_channels, t1 - t0, density))
                for o0, o1, t0, t1 in regions
            ]
            mask = self._initial_mask(module.weight, groups)
            layer = SparseLayer(name, module, attach_mask(module, mask), groups, mask.bool())
            layer.mask.keep_dense_grad = self.config.growth == "gradient"
            self.layers.append(layer)
        if not self.layers:
            raise ValueError("no convolution to sparsify in this model")
        return self.layers

    def _regions(self, name: str, module: nn.Conv1d) -> list[tuple[int, int, int, int]]:
        """The convolution's own kernel groups, or those the config asks for."""
        out_channels, _, kernel_size = module.weight.shape
        n_groups, anchor = self.config.n_groups, self.config.anchor
        own = getattr(module, "regions", None)
        if own and n_groups is None and anchor is None:
            return list(own)
        asked = kernel_group_regions(
            out_channels,
            kernel_size,
            n_groups or (len(own) if own else DEFAULT_GROUPS),
            anchor or DEFAULT_ANCHOR,
        )
        if own and list(own) != asked:
            raise ValueError(
                f"{name}: the convolution's own kernel groups {own} differ from "
                f"DSTConfig(n_groups={n_groups}, anchor={anchor!r}); leave both None to "
                "use the convolution's"
            )
        return asked

    def _initial_mask(self, weight: torch.Tensor, groups: list[KernelGroup]) -> torch.Tensor:
        mask = torch.zeros_like(weight)
        in_channels = weight.shape[1]
        for g in groups:
            taps, outs = g.tap_stop - g.tap_start, g.out_stop - g.out_start
            chosen = torch.zeros(taps * outs * in_channels, device=weight.device)
            if self.config.init == "remain_sort":
                # the official order: tap by tap from the region start, (out, in) row-major
                chosen[: g.budget] = 1.0
            else:
                picks = torch.randperm(chosen.numel(), generator=self.generator)[: g.budget]
                chosen[picks.to(weight.device)] = 1.0
            mask[g.out_start : g.out_stop, :, g.tap_start : g.tap_stop] = chosen.view(
                taps, outs, in_channels
            ).permute(1, 2, 0)
        return mask

    # ------------------------------------------------------------------ the update
    @torch.no_grad()
    def update(self, fraction: float) -> dict[str, Any]:
        """Drop ``ceil(fraction * budget)`` weights per group and regrow as many; return stats."""
        swapped = 0
        for layer in self.layers:
            weight = layer.module.parametrizations.weight.original
            mask = layer.mask.mask
            newly_grown = torch.zeros_like(mask, dtype=torch.bool)
            for g in layer.groups:
                block = (
                    slice(g.out_start, g.out_stop),
                    slice(None),
                    slice(g.tap_start, g.tap_stop),
                )
                before = mask[block].bool()
                shape = before.shape
                n_swap = math.ceil(fraction * g.budget)
                active = before.flatten().nonzero().squeeze(1)
                magnitude = weight[block].abs().flatten()[active]
                dropped = active[torch.topk(magnitude, n_swap, largest=False).indices]
                after = before.flatten().clone()
                after[dropped] = False
                candidates = (~after).nonzero().squeeze(1)  # includes the just-dropped
                if self.config.growth == "random":
                    order = torch.randperm(len(candidates), generator=self.generator)
                    grown = candidates[order[:n_swap].to(candidates.device)]
                else:
                    gradient = layer.mask.dense_grad
                    if gradient is None:
                        raise RuntimeError("gradient growth needs a backward pass first")
                    scores = gradient[block].abs().flatten()[candidates]
                    grown = candidates[torch.topk(scores, n_swap).indices]
                after[grown] = True
                mask[block] = after.view(shape).to(mask.dtype)
                # weights that were inactive before the update start from zero
                newly_grown[block] = after.view(shape) & ~before
                swapped += n_swap
            weight[newly_grown] = 0.0
            if self.config.reset_optimizer_state and self._optimizer is not None:
                state = self._optimizer.state.get(weight, {})
                for key in ("exp_avg", "exp_avg_sq", "momentum_buffer"):
                    if key in state:
                        state[key][newly_grown] = 0.0
            layer.ever_active |= mask.bool()
        stats = {"fraction": fraction, "swapped": swapped}
        self.updates.append(stats)
        return stats

    # ------------------------------------------------------------------ statistics
    def nonzero_per_group(self) -> dict[str, list[int]]:
        """Active weights per group of each layer (constant over training)."""
        return {
            layer.name: [int(layer.mask.mask[g.out_start : g.out_stop].sum()) for g in layer.groups]
            for layer in self.layers
        }

    def ever_active_fraction(self) -> dict[str, list[float]]:
        """Per layer and group: fraction of the region's positions active at some point."""
        result = {}
        for layer in self.layers:
            fractions = []
            for g in layer.groups:
                region = layer.ever_active[g.out_start : g.out_stop, :, g.tap_start : g.tap_stop]
                fractions.append(float(region.float().mean()))
            result[layer.name] = fractions
        return result

    # ------------------------------------------------------------------ trainer callbacks
    def on_train_begin(self, state: TrainState) -> None:
        if not self.layers:
            self.attach(state.network)
        self._optimizer = state.optimizer
        self._total_steps = state.n_epochs * state.steps_per_epoch

    def on_epoch_end(self, state: TrainState, record: dict[str, Any]) -> None:
        epoch = state.epoch + 1
        if self.config.fix or epoch % self.config.update_every or epoch >= state.n_epochs:
            return
        stats = self.update(drop_fraction_at(state.step, self._total_steps, self.config))
        record["dst_fraction"] = stats["fraction"]
        record["dst_swapped"] = stats["swapped"]
