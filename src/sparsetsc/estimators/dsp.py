"""DSP classifier: LITE or Inception through DSP's pipeline (:func:`sparsetsc.prune.fit_prune`).

The pipeline of the DSP authors' code: sparsity training, activation analysis, rebuild,
recovery. This estimator only adds the authors' per-backbone settings and the aeon /
scikit-learn conventions.

``widths="uniform"`` runs the same sparsity phase and analysis and then trains, instead of
DSP's network, the honesty control: the same backbone with one width everywhere, as many
trainable parameters as DSP's network, from scratch. Same seed, same sparsity phase, so the
two are matched exactly; the difference in accuracy is what DSP's per-stage widths are worth.
"""

from __future__ import annotations

from torch import nn

from ..cost import ModelCost
from ..nn import LITE, Inception, InceptionConfig, LITEConfig
from ..prune import DSPConfig, fit_prune, uniform_width
from ..train import DEFAULT_PRECISION, TrainConfig, TrainResult
from .base import BaseDeepClassifier, FitPlan
from .lite import InceptionClassifier, LITEClassifier

__all__ = ["DSPClassifier"]

BACKBONES = ("lite", "inception")
WIDTHS = ("dsp", "uniform")
#: The DSP authors' settings per backbone: stage weights of the penalty and vote threshold.
_DEFAULT_STAGE_WEIGHTS = {"lite": (4.0, 2.0, 1.0), "inception": None}  # None: 1 per stage
_DEFAULT_MIN_COUNT = {"lite": 1, "inception": 0}


class DSPClassifier(BaseDeepClassifier):
    """Dynamic structured pruning of LITE or Inception (DSP, 2026).

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/dsp/>.

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
    n_epochs, batch_size, lr, lr_schedule, min_lr, normalize, device, precision, verbose, \
random_state
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
        precision: str = DEFAULT_PRECISION,
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
        self.precision = precision
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
        if self.widths not in WIDTHS:
            raise ValueError(f"widths must be one of {WIDTHS}; got {self.widths!r}")
        self._dsp_config(TrainConfig(n_epochs=1))  # lam, recovery, recovery_epochs, widths

    def _dsp_config(self, train: TrainConfig) -> DSPConfig:
        backbone = self.backbone
        stage_weights = self.stage_weights
        if stage_weights is None:
            stage_weights = _DEFAULT_STAGE_WEIGHTS[backbone]
        return DSPConfig(
            lam=self.lam,
            stage_weights=stage_weights,
            penalize_fixed=self.penalize_hand_crafted,
            min_count=_DEFAULT_MIN_COUNT[backbone] if self.min_count is None else self.min_count,
            recovery=self.recovery,
            recovery_epochs=self.recovery_epochs,
            uniform=self.widths == "uniform",
            train=train,
        )

    def _uses_hand_crafted(self) -> bool:
        return self.backbone == "lite" if self.hand_crafted is None else bool(self.hand_crafted)

    def _build_network(self, n_channels: int, n_timepoints: int, n_classes: int) -> nn.Module:
        self._check_choices()
        hand_crafted = self._uses_hand_crafted()
        if self.backbone == "lite":
            config = LITEConfig(n_channels, n_classes, self.n_filters, hand_crafted=hand_crafted)
            return LITE(config)
        config = InceptionConfig(n_channels, n_classes, self.n_filters, hand_crafted=hand_crafted)
        return Inception(config)

    def _min_timepoints(self) -> int:
        self._check_choices()
        return 1

    # ------------------------------------------------------------------ fit
    def _train(self, network: nn.Module, plan: FitPlan) -> tuple[nn.Module, TrainResult]:
        result = fit_prune(
            network, plan.X, plan.targets, self._dsp_config(plan.config), device=plan.device
        )
        self.base_history_ = result.base_result.history
        self.stage_widths_ = result.stage_widths
        self.dsp_widths_ = result.pruning.kept_widths
        self.stage_group_widths_ = result.group_widths
        self.dsp_group_widths_ = result.kept_group_widths
        self.uniform_width_ = result.uniform_width
        self.kept_widths_ = result.kept_widths
        self.base_cost_ = _cost_summary(result.base_cost)
        self.pruned_cost_ = _cost_summary(result.cost)
        self.compression_ = result.compression
        return result.network, result.result

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
        target = self.pruned_cost_["params_trainable"]
        width = uniform_width(self.network_, target, max_width=self.n_filters)
        control_class = LITEClassifier if self.backbone == "lite" else InceptionClassifier
        shared = (
            "batch_size",
            "lr",
            "lr_schedule",
            "min_lr",
            "normalize",
            "device",
            "random_state",
        )
        return control_class(
            n_filters=width,
            hand_crafted=self._uses_hand_crafted(),
            n_epochs=len(self.history_) if self.recovery != "none" else self.n_epochs,
            **{name: getattr(self, name) for name in shared},
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


def _cost_summary(cost: ModelCost) -> dict[str, int]:
    return {"params": cost.params, "params_trainable": cost.params_trainable, "macs": cost.macs}
