"""DSN classifier: the dynamic sparse network trained with kernel-group DST."""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch import nn

from ..nn import DSN, DSNConfig
from ..sparse import DSTConfig, DynamicSparseTraining, bake_masks, real_density, sparse_inference
from ..train import DEFAULT_PRECISION, TrainConfig, TrainResult, fit_network
from .base import BaseDeepClassifier, FitPlan

__all__ = ["DSNClassifier"]

#: Hyper-parameters that are fields of :class:`~sparsetsc.sparse.DSTConfig` (besides density).
_DST_PARAMS = (
    "init",
    "growth",
    "update_every",
    "drop_fraction",
    "fix",
    "reset_optimizer_state",
)

# Fitted network -> its sparse-inference twin, built on first use and never saved; kept
# outside the estimator so that predicting does not change its attributes.
_SPARSE_TWINS: weakref.WeakKeyDictionary[nn.Module, nn.Module] = weakref.WeakKeyDictionary()


class DSNClassifier(BaseDeepClassifier):
    """Dynamic Sparse Network (Xiao et al., NeurIPS 2022) for time-series classification.

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/dsn/>.

    Defaults reproduce the official code: 4 modules, bottleneck 47 -> 141 channels, k=39,
    3 kernel groups with left-anchored regions of 13/26/39 taps, ``density=0.2`` of each
    group's region (13.3 % of each k=39 weight, see ``real_density_``), ``remain_sort``
    initialisation, random regrowth every 5 epochs with a drop fraction cosine-decayed from
    0.5 to 0.001 over the first 80 % of training; Adam 3e-4 with a per-epoch cosine to 1e-4,
    batch size ``max(min(N/10, 16), 2)``, 1000 epochs, weights of the lowest training loss.

    Parameters
    ----------
    n_filters : int, default=47
        Bottleneck width; large-kernel convs have ``3 * n_filters`` outputs (59 for UEA).
    kernel_size : int, default=39
    depth : int, default=4
    n_groups : int, default=3
        Kernel groups; ``1`` is the no-groups ablation (one region: the whole kernel).
    anchor : {"left", "center"}, default="left"
        Regions start at the first tap (official) or are centred in the kernel.
    padding : {"zeros", "replicate"}, default="zeros"
        Centred zero padding (official setting for UCR-2018) or right replicate padding
        (official default for the UCR-2015 archive).
    density : float, default=0.2
        The official flag: fraction of each group's *region* kept non-zero (0.1 for UEA).
    growth : {"random", "gradient"}, default="random"
        DSN-rand or DSN-grad (largest dense-gradient magnitude, RigL-style).
    init : {"remain_sort", "random"}, default="remain_sort"
        Official deterministic leading taps, or uniformly random positions in the region.
    update_every : int, default=5
        Epochs between prune/regrow updates (Delta T).
    drop_fraction : float, default=0.5
        Initial fraction of each group's non-zeros swapped at an update.
    fix : bool, default=False
        Keep the initial topology (DSN-fix, static sparse training).
    dense : bool, default=False
        Train the same network dense (no masks, whole kernels): the dense twin.
    match_groups : int or None, default=None
        With ``n_groups=1``: give each layer the non-zero count of a model with
        ``match_groups`` groups at ``density`` (the paper's matched-parameter ablation).
    reset_optimizer_state : bool, default=True
        Zero the Adam moments of regrown weights (the official code keeps stale ones).
    inference : {"sparse", "dense"}, default="sparse"
        How a fitted sparse model predicts on CPU: ``"sparse"`` computes only the non-zero
        weights of the large kernels (:func:`sparsetsc.sparse.sparse_inference`);
        ``"dense"`` convolves each kernel group over its whole region. Same predictions,
        up to float summation order; on GPU the dense path is always used. The sparse copy
        is built on the first prediction of each fitted network: after changing
        ``network_``'s weights in place, assign a new network (or use ``"dense"``).
    n_epochs, batch_size, lr, lr_schedule, min_lr, selection, validation_size, normalize,
    device, precision, verbose, random_state
        As in :class:`~sparsetsc.FCNClassifier`, with DSN's defaults.

    Attributes
    ----------
    real_density_ : float
        Fraction of the large-kernel weights that are non-zero.
    nonzero_per_group_ : dict
        Non-zeros per kernel group of each sparse layer.
    ever_active_fraction_ : dict
        Per layer and group, the fraction of region positions active at some point of training.
    """

    _batchable = False  # dynamic sparse training is a callback: ensemble members train in turn
    _fitted_json_attributes = BaseDeepClassifier._fitted_json_attributes + (
        "real_density_",
        "nonzero_per_group_",
        "ever_active_fraction_",
    )

    _network_class = DSN
    _network_params = ("n_filters", "kernel_size", "depth", "n_groups", "anchor", "padding")

    def __init__(
        self,
        n_filters: int = 47,
        kernel_size: int = 39,
        depth: int = 4,
        n_groups: int = 3,
        anchor: str = "left",
        padding: str = "zeros",
        density: float = 0.2,
        growth: str = "random",
        init: str = "remain_sort",
        update_every: int = 5,
        drop_fraction: float = 0.5,
        fix: bool = False,
        dense: bool = False,
        match_groups: int | None = None,
        reset_optimizer_state: bool = True,
        inference: str = "sparse",
        n_epochs: int = 1000,
        batch_size: int | str = "dsn",
        lr: float = 3e-4,
        lr_schedule: str = "cosine",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float | int = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.depth = depth
        self.n_groups = n_groups
        self.anchor = anchor
        self.padding = padding
        self.density = density
        self.growth = growth
        self.init = init
        self.update_every = update_every
        self.drop_fraction = drop_fraction
        self.fix = fix
        self.dense = dense
        self.match_groups = match_groups
        self.reset_optimizer_state = reset_optimizer_state
        self.inference = inference
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.min_lr = min_lr
        self.selection = selection
        self.validation_size = validation_size
        self.normalize = normalize
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        super().__init__()

    def _network_config(self, n_channels: int, n_classes: int, **overrides: Any) -> DSNConfig:
        if self.dense:  # the dense twin: one group, the whole kernel
            overrides = {"n_groups": 1, **overrides}
        return super()._network_config(n_channels, n_classes, **overrides)

    def _dst_config(self) -> DSTConfig:
        density = self.density
        if self.match_groups is not None:
            if self.n_groups != 1:
                raise ValueError("match_groups is for the no-groups ablation: set n_groups=1")
            density = real_density(
                self.density,
                self.kernel_size,
                self.match_groups,
                self._network_config(1, 2).conv_channels,
                self.n_filters,
                self.anchor,
            )
        # The kernel groups come with the network's convolutions.
        return DSTConfig(density=density, **{name: getattr(self, name) for name in _DST_PARAMS})

    def _train_config(self) -> TrainConfig:
        if self.inference not in ("sparse", "dense"):
            raise ValueError(f"inference must be 'sparse' or 'dense'; got {self.inference!r}")
        if not self.dense:
            self._dst_config()  # bad sparsity settings fail before any training
        return super()._train_config()

    def _train(self, network: nn.Module, plan: FitPlan) -> tuple[nn.Module, TrainResult]:
        if self.dense:
            self.real_density_ = 1.0
            self.nonzero_per_group_ = {}
            self.ever_active_fraction_ = {}
            return super()._train(network, plan)
        engine = DynamicSparseTraining(self._dst_config(), seed=plan.seed)
        result = fit_network(network, plan.X, plan.targets, plan.config, plan.device, [engine])
        self.nonzero_per_group_ = engine.nonzero_per_group()
        self.ever_active_fraction_ = engine.ever_active_fraction()
        nonzero = sum(sum(v) for v in self.nonzero_per_group_.values())
        size = sum(layer.mask.mask.numel() for layer in engine.layers)
        self.real_density_ = nonzero / size
        # Inactive positions become exact zeros in a plain network: same function, no masks.
        bake_masks(network)
        return network, result

    def _inference_network(self, device: torch.device) -> nn.Module:
        if self.dense or self.inference != "sparse" or device.type != "cpu":
            return self.network_
        twin = _SPARSE_TWINS.get(self.network_)
        if twin is None:
            twin = _SPARSE_TWINS[self.network_] = sparse_inference(self.network_)
        return twin

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's estimator checks."""
        return {
            "n_filters": 4,
            "kernel_size": 6,
            "depth": 2,
            "n_epochs": 3,
            "update_every": 1,
            "batch_size": 4,
            "device": "cpu",
            "random_state": 0,
        }
