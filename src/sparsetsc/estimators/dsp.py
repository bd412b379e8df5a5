"""DSP classifiers: sparsity-trained LITE / Inception, pruned by activation analysis, recovered.

The pipeline of the DSP authors' code (see ``docs``/reference): (1) train the full backbone
with cross-entropy plus the instance-wise L2,1 penalty on its stage outputs, keeping the
epoch with the lowest *total* loss; (2) count, on the training set in eval mode, in how many
instances each channel is active and keep those above ``min_count`` (no pruning ratio);
(3) rebuild a physically smaller network; (4) recover: retrain it from a fresh
initialisation (``"scratch"``, the setting behind the published accuracy parity), fine-tune
the surviving weights (``"finetune"``), or keep them as they are (``"none"``).

``widths="uniform"`` runs the same steps (1)-(2) and then trains, instead of DSP's network,
the honesty control: the same backbone with one width everywhere, as many trainable
parameters as DSP's network, from scratch. Same seed, same sparsity phase, so the two are
matched exactly; the difference in accuracy is what DSP's per-stage widths are worth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from ..cost import model_cost
from ..nn import LITE, Inception, InceptionConfig, LITEConfig
from ..nn.handcrafted import HandCraftedFilters
from ..prune import SparsityLoss, dsp_prune, matched_uniform_width, stage_width, stages_of
from ..train import TrainConfig, fit_network, seeded
from .base import BaseDeepClassifier
from .lite import InceptionClassifier, LITEClassifier

__all__ = ["DSPClassifier"]

BACKBONES = ("lite", "inception")
RECOVERIES = ("scratch", "finetune", "none")
WIDTHS = ("dsp", "uniform")
#: The DSP authors' settings per backbone: stage weights of the penalty and vote threshold.
_DEFAULT_STAGE_WEIGHTS = {"lite": (4.0, 2.0, 1.0), "inception": None}  # None: 1 per stage
_DEFAULT_MIN_COUNT = {"lite": 1, "inception": 0}


class DSPClassifier(BaseDeepClassifier):
    """Dynamic structured pruning of LITE or Inception (DSP, 2026).

    Parameters
    ----------
    backbone : {"lite", "inception"}, default="lite"
        The network to prune.
    lam : float, default=1e-5
        Strength of the sparsity penalty (summed over the batch, as the authors do).
    stage_weights : sequence of float or None, default=None
        Penalty weight per stage; ``None``: LITE ``(4, 2, 1)``, Inception 1 per module.
    penalize_hand_crafted : bool, default=False
        Also penalise the channels of the frozen hand-crafted filters (the authors' LITE
        runs did, through a slicing slip; they are never removed either way).
    min_count : int or None, default=None
        A channel stays when active in more than this many training instances; ``None``:
        LITE 1, Inception 0.
    recovery : {"scratch", "finetune", "none"}, default="scratch"
        After pruning: retrain from a fresh initialisation (frozen filters kept), fine-tune
        the surviving weights without the penalty, or nothing.
    recovery_epochs : int or None, default=None
        Epochs of the recovery; ``None``: ``n_epochs`` for scratch and a third of it for
        finetune (the authors' 1500 and 500).
    widths : {"dsp", "uniform"}, default="dsp"
        The recovered network: DSP's per-stage widths, or the uniform-width control of the
        same trainable-parameter count (needs ``recovery="scratch"``).
    n_filters : int, default=32
        Filters per branch of the unpruned backbone.
    hand_crafted : bool, default=None
        Hand-crafted filters in the backbone; ``None``: LITE yes, Inception no.
    n_epochs, batch_size, lr, lr_schedule, min_lr, normalize, device, verbose, random_state
        Training of both phases, as :class:`~sparsetsc.LITEClassifier` (published defaults:
        1500 epochs, batch 64, Adam 1e-3, plateau schedule on the training loss).

    Attributes
    ----------
    network_ : nn.Module
        The pruned (and recovered) network, a plain LITE / Inception with smaller widths.
    kept_widths_ : dict
        Channels per stage of ``network_`` (by stage output name), hand-crafted channels
        included: what DSP kept, or the uniform control's widths.
    dsp_widths_ : dict
        What DSP's analysis kept per stage (equal to ``kept_widths_`` unless uniform).
    stage_group_widths_, dsp_group_widths_ : dict
        Channels per stage and channel group (branch) before pruning, and what DSP's analysis
        kept of them; fixed (hand-crafted) channels are in no group.
    uniform_width_ : int or None
        Filters per branch of the uniform control; ``None`` with ``widths="dsp"``.
    stage_widths_ : dict
        Channels per stage before pruning.
    compression_ : dict
        ``1 - params_pruned / params_base`` over trainable parameters (``"trainable"``) and
        over all parameters, frozen filters included (``"all"``), for ``network_``.
    base_cost_, pruned_cost_ : dict
        Parameters and MACs per series of the unpruned network and of ``network_``.
    base_history_ : list of dict
        Epoch records of the sparsity training (``history_`` is the recovery's).
    """

    _batchable = False  # the sparsity loss is a callback
    _fitted_json_attributes = BaseDeepClassifier._fitted_json_attributes + (
        "kept_widths_",
        "dsp_widths_",
        "stage_group_widths_",
        "dsp_group_widths_",
        "uniform_width_",
        "stage_widths_",
        "compression_",
        "base_cost_",
        "pruned_cost_",
        "base_history_",
    )

    def __init__(
        self,
        backbone: str = "lite",
        lam: float = 1e-5,
        stage_weights: tuple[float, ...] | None = None,
        penalize_hand_crafted: bool = False,
        min_count: int | None = None,
        recovery: str = "scratch",
        recovery_epochs: int | None = None,
        widths: str = "dsp",
        n_filters: int = 32,
        hand_crafted: bool | None = None,
        n_epochs: int = 1500,
        batch_size: int | str = 64,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        normalize: bool = True,
        device: str = "auto",
        verbose: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.backbone = backbone
        self.lam = lam
        self.stage_weights = stage_weights
        self.penalize_hand_crafted = penalize_hand_crafted
        self.min_count = min_count
        self.recovery = recovery
        self.recovery_epochs = recovery_epochs
        self.widths = widths
        self.n_filters = n_filters
        self.hand_crafted = hand_crafted
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.min_lr = min_lr
        self.normalize = normalize
        self.device = device
        self.verbose = verbose
        self.random_state = random_state
        super().__init__()

    # ------------------------------------------------------------------ configuration
    @property
    def selection(self) -> str:
        return "train_loss"  # the total (penalised) training loss, as the authors select

    @property
    def validation_size(self) -> float:
        return 0.0

    def _check_choices(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}; got {self.backbone!r}")
        if self.recovery not in RECOVERIES:
            raise ValueError(f"recovery must be one of {RECOVERIES}; got {self.recovery!r}")
        if self.widths not in WIDTHS:
            raise ValueError(f"widths must be one of {WIDTHS}; got {self.widths!r}")
        if self.widths == "uniform" and self.recovery != "scratch":
            raise ValueError(
                f'widths="uniform" trains a new network: it needs recovery="scratch", '
                f"not {self.recovery!r}"
            )
        if not self.lam >= 0:
            raise ValueError(f"lam must be >= 0; got {self.lam}")
        if self.recovery_epochs is not None and self.recovery_epochs < 1:
            raise ValueError(f"recovery_epochs must be >= 1; got {self.recovery_epochs}")

    def _uses_hand_crafted(self) -> bool:
        return self.backbone == "lite" if self.hand_crafted is None else bool(self.hand_crafted)

    def _build_network(self, n_channels: int, n_timepoints: int, n_classes: int) -> nn.Module:
        self._check_choices()
        return self._build_network_of_width(n_channels, n_classes, self.n_filters)

    def _min_timepoints(self) -> int:
        self._check_choices()
        return 1

    def _sparsity_loss(self, network: nn.Module) -> SparsityLoss:
        stages = stages_of(network)
        weights = self.stage_weights
        if weights is None:
            weights = _DEFAULT_STAGE_WEIGHTS[self.backbone] or (1.0,) * len(stages)
        channels = {}
        if not self.penalize_hand_crafted:
            modules = dict(network.named_modules())
            for stage in stages:
                if stage.fixed:
                    width = stage_width(modules[stage.root])
                    penalised = np.ones(width, dtype=bool)
                    for fixed in stage.fixed:
                        penalised[fixed] = False
                    channels[stage.output] = np.flatnonzero(penalised).tolist()
        return SparsityLoss([s.output for s in stages], weights, self.lam, channels)

    # ------------------------------------------------------------------ fit
    def _fit(self, X: np.ndarray, y: np.ndarray) -> DSPClassifier:
        self._check_choices()
        plan = self._plan_fit(X, y)
        n_channels, n_timepoints = plan.X.shape[1], plan.X.shape[2]
        min_count = _DEFAULT_MIN_COUNT[self.backbone] if self.min_count is None else self.min_count
        with seeded(plan.seed, plan.device):
            base = self._build_network(n_channels, n_timepoints, self.n_classes_)
            sparsity = self._sparsity_loss(base)
            base_result = fit_network(
                base, plan.X, plan.targets, plan.config, plan.device, [sparsity]
            )
            pruning = dsp_prune(base, plan.X, min_count)
            network = pruning.network
            uniform_width = None
            if self.widths == "uniform":
                dsp_cost = model_cost(network, n_channels, n_timepoints)
                uniform_width = self._matched_width(n_channels, dsp_cost.params_trainable)
                network = self._build_network_of_width(n_channels, self.n_classes_, uniform_width)
            result = base_result
            if self.recovery != "none":
                if self.recovery == "scratch":
                    _reinitialise(network)
                epochs = self.recovery_epochs or (
                    plan.config.n_epochs
                    if self.recovery == "scratch"
                    else max(1, plan.config.n_epochs // 3)
                )
                config = TrainConfig(**{**vars(plan.config), "n_epochs": epochs})
                result = fit_network(network, plan.X, plan.targets, config, plan.device)
        base_cost = model_cost(base, n_channels, n_timepoints)
        pruned_cost = model_cost(network, n_channels, n_timepoints)
        self.base_history_ = base_result.history
        self.stage_widths_ = {name: len(mask) for name, mask in pruning.keep.items()}
        self.dsp_widths_ = pruning.kept_widths
        groups = {stage.output: stage.groups for stage in stages_of(base)}
        self.stage_group_widths_ = {
            name: [len(range(width)[group]) for group in groups[name]]
            for name, width in self.stage_widths_.items()
        }
        self.dsp_group_widths_ = {
            name: [int(pruning.keep[name][group].sum()) for group in groups[name]]
            for name in self.stage_widths_
        }
        self.uniform_width_ = uniform_width
        self.kept_widths_ = _stage_widths(network)
        self.base_cost_ = _cost_summary(base_cost)
        self.pruned_cost_ = _cost_summary(pruned_cost)
        self.compression_ = {
            "trainable": 1 - pruned_cost.params_trainable / base_cost.params_trainable,
            "all": 1 - pruned_cost.params / base_cost.params,
        }
        self._finish_fit(plan, network, [], result)
        return self

    def uniform_control(self) -> BaseDeepClassifier:
        """An unfitted LITE / Inception classifier of uniform width with about as many
        trainable parameters as the pruned network (the honesty control), trained like the
        recovery (same epochs, batch, schedule and seed).

        ``widths="uniform"`` trains this control inside ``fit`` instead, after the same
        sparsity phase; this method is for comparing with an already fitted DSP model.
        """
        self._check_is_fitted()
        if self.widths != "dsp":
            raise ValueError('this model is already the uniform control (widths="uniform")')
        width = self._matched_width(
            self.metadata_["n_channels"], self.pruned_cost_["params_trainable"]
        )
        epochs = len(self.history_) if self.recovery != "none" else self.n_epochs
        common = {
            "n_filters": width,
            "hand_crafted": self._uses_hand_crafted(),
            "n_epochs": epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "lr_schedule": self.lr_schedule,
            "min_lr": self.min_lr,
            "normalize": self.normalize,
            "device": self.device,
            "random_state": self.random_state,
        }
        control_class = LITEClassifier if self.backbone == "lite" else InceptionClassifier
        return control_class(**common)

    def _matched_width(self, n_channels: int, target_params: int) -> int:
        def build(width: int) -> nn.Module:
            return self._build_network_of_width(n_channels, self.n_classes_, width)

        return matched_uniform_width(build, target_params, self.n_filters)

    def _build_network_of_width(self, n_channels: int, n_classes: int, width: int) -> nn.Module:
        if self.backbone == "lite":
            return LITE(
                LITEConfig(
                    n_channels, n_classes, n_filters=width, hand_crafted=self._uses_hand_crafted()
                )
            )
        return Inception(
            InceptionConfig(
                n_channels, n_classes, n_filters=width, hand_crafted=self._uses_hand_crafted()
            )
        )

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {
            "n_filters": 4,
            "n_epochs": 2,
            "recovery_epochs": 1,
            "batch_size": 4,
            "lam": 1e-3,
            "device": "cpu",
            "random_state": 0,
        }


def _reinitialise(network: nn.Module) -> None:
    """Fresh weights for every layer except the frozen hand-crafted filters."""
    for module in network.modules():
        if isinstance(module, HandCraftedFilters):
            continue
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()  # BatchNorm's also resets its running statistics


def _stage_widths(network: nn.Module) -> dict[str, int]:
    modules = dict(network.named_modules())
    return {stage.output: stage_width(modules[stage.root]) for stage in stages_of(network)}


def _cost_summary(cost: Any) -> dict[str, int]:
    return {"params": cost.params, "params_trainable": cost.params_trainable, "macs": cost.macs}
