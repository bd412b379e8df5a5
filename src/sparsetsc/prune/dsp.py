"""DSP, dynamic structured pruning (Abdullayev et al., 2026), as one pipeline over any network.

:func:`fit_prune` runs the whole method on a network and its training data:

1. **Sparsity training.** The network trains with cross-entropy plus the instance-wise L2,1
   penalty ``lam * sum_l weight_l * sum_i sum_c ||F_l[i, c, :]||_2`` on its stage outputs
   ``F_l`` (after each stage's BatchNorm and ReLU): the L2 norm over time of each channel
   map, summed over channels (L1, which drives whole channels to zero) and summed -- not
   averaged -- over the batch, as the authors' code does (Liu et al., IJCAI 2019,
   "instance-wise feature decay"). The checkpoint with the lowest *total* loss is kept.
2. **Activation analysis.** On the training set in eval mode, ``n[i, c]`` is the L2 norm
   over time of channel ``c`` for instance ``i``; the instance's threshold is
   ``mu_i = sum_c n[i, c] / (nnz_i + 1)`` (``nnz_i`` its channels with ``n[i, c] != 0``: about
   the mean norm of its active channels; the +1 guards an all-zero instance), and ``c`` is
   active for ``i`` when ``n[i, c] > mu_i``. A channel stays when it is active in more than
   ``min_count`` instances (the authors used 1 for LITE, 0 for Inception). There is no
   pruning ratio: what survives is what the data uses. Fixed channels (frozen hand-crafted
   filters) are left out of the threshold and always stay; every declared group keeps at
   least one channel.
3. **Rebuild.** :func:`~sparsetsc.prune.rebuild.remove_channels` builds the physically
   smaller network (torch-pruning's dependency graph), turned back into a registered
   sparsetsc network when its class can describe its new shapes.
4. **Recovery.** Retrain it from a fresh initialisation (``"scratch"``, the setting behind
   the published accuracy parity), fine-tune the surviving weights without the penalty
   (``"finetune"``), or keep them as they are (``"none"``).

With ``uniform=True`` the recovered network is instead the honesty control: the same
architecture with one width everywhere and as many trainable parameters as DSP's network,
trained from scratch after the same sparsity phase (:mod:`.uniform`).

A network takes part through a description of its prunable stages
(:class:`~sparsetsc.nn.stages.PrunableStage`): sparsetsc's LITE, Inception and DSN describe
their own; for any other network, pass ``stages``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..cost import ModelCost, model_cost
from ..nn.handcrafted import HandCraftedFilters
from ..nn.stages import PrunableStage, StageRecorder, stage_outputs, stage_widths, stages_of
from ..train import Callback, TrainConfig, TrainResult, TrainState, fit_network, resolve_device
from .rebuild import rebuild_from_shapes, remove_channels
from .uniform import uniform_builder, uniform_control

RECOVERIES = ("scratch", "finetune", "none")


# ---------------------------------------------------------------------- 1. sparsity loss
def instance_l21(features: torch.Tensor) -> torch.Tensor:
    """``sum_i sum_c ||features[i, c, :]||_2`` of a ``(batch, channels, time)`` tensor."""
    if features.dim() != 3:
        raise ValueError(f"expected (batch, channels, time) features; got shape {features.shape}")
    return torch.linalg.vector_norm(features, ord=2, dim=-1).sum()


class SparsityLoss(Callback):
    """Training callback adding ``lam * sum_l weight_l * instance_l21(stage_l[:, channels_l])``.

    Stage outputs are read with forward hooks on named modules, so any network works without
    changes to its class.

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
            term = weight * instance_l21(features.float())  # float32 under mixed precision too
            total = term if total is None else total + term
        return total

    def on_train_begin(self, state: TrainState) -> None:
        self._recorder = StageRecorder(state.network, self.stages)

    def extra_loss(self, state: TrainState) -> torch.Tensor:
        if self._recorder is None:
            raise RuntimeError("SparsityLoss.extra_loss before on_train_begin")
        loss = self.lam * self.penalty(self._recorder.outputs)
        self._recorder.clear()  # the graph is in the loss now; do not keep it alive
        return loss

    def on_train_end(self, state: TrainState) -> None:
        if self._recorder is not None:
            self._recorder.remove()
            self._recorder = None


# ---------------------------------------------------------------------- 2. activation analysis
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
    counts: dict[str, torch.Tensor] = {}
    for outputs in stage_outputs(network, X, stages, batch_size):
        for name, features in outputs.items():
            if name in channels:
                features = features[:, channels[name]]
            norms = torch.linalg.vector_norm(features, ord=2, dim=-1)
            active = active_channels(norms).sum(dim=0)
            counts[name] = active if name not in counts else counts[name] + active
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


# ---------------------------------------------------------------------- 3. decision and rebuild
def dsp_keep_masks(
    network: nn.Module,
    X: np.ndarray | torch.Tensor,
    min_count: int,
    stages: Sequence[PrunableStage] | None = None,
    batch_size: int = 256,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Which channels of each stage DSP keeps, and the activity counts behind it.

    Returns ``(keep, counts)``, both keyed by stage output name; ``keep[name]`` is a boolean
    array over the stage's channels, ``counts[name]`` the number of instances of ``X`` in
    which each channel is active (-1 for fixed channels, which are not counted).
    """
    stages = list(stages or stages_of(network))
    widths = stage_widths(network, stages)
    fixed = {stage.output: stage.fixed_mask(widths[stage.output]) for stage in stages}
    counted = {name: np.flatnonzero(~mask) for name, mask in fixed.items()}
    activity = channel_activity(
        network, X, [s.output for s in stages], channels=counted, batch_size=batch_size
    )
    keep, counts = {}, {}
    for stage in stages:
        name = stage.output
        keep[name] = fixed[name].copy()
        keep[name][counted[name]] = keep_channels(activity[name], min_count)
        keep[name] = guard_groups(keep[name], stage.groups)
        counts[name] = np.full(widths[name], -1, dtype=np.int64)
        counts[name][counted[name]] = activity[name]
    return keep, counts


@dataclass
class PruningResult:
    """A pruned network and how it was obtained."""

    network: nn.Module  # the smaller network, a fresh registered network when possible
    keep: dict[str, np.ndarray]  # kept channels per stage (by stage output name)
    counts: dict[str, np.ndarray]  # activity counts per stage (-1 for fixed channels)

    @property
    def kept_widths(self) -> dict[str, int]:
        """Channels kept per stage."""
        return {name: int(mask.sum()) for name, mask in self.keep.items()}


def dsp_prune(
    network: nn.Module,
    X: np.ndarray | torch.Tensor,
    min_count: int,
    stages: Sequence[PrunableStage] | None = None,
    batch_size: int = 256,
) -> PruningResult:
    """Analyse a trained ``network`` on ``X`` (its training data); remove the unused channels.

    Steps 2 and 3 of DSP, without training. ``min_count``: a channel stays when it is active
    in more than this many instances (DSP: 1 for LITE, 0 for Inception).
    """
    keep, counts = dsp_keep_masks(network, X, min_count, stages, batch_size)
    example = torch.as_tensor(X[: min(len(X), 2)], dtype=torch.float32)
    pruned = remove_channels(network, keep, example, stages)
    if hasattr(pruned, "config_from_shapes"):
        pruned = rebuild_from_shapes(pruned)
    return PruningResult(pruned.eval(), keep, counts)


# ---------------------------------------------------------------------- 4. the pipeline
@dataclass
class DSPConfig:
    """Settings of :func:`fit_prune`.

    Parameters
    ----------
    lam : float, default=1e-5
        Strength of the sparsity penalty (the authors' lambda; summed over the batch).
    stage_weights : sequence of float or None, default=None
        Penalty weight per stage; ``None``: 1 each (the authors: LITE ``(4, 2, 1)``).
    penalize_fixed : bool, default=False
        Also penalise the fixed channels of a stage (the authors' LITE runs did so for the
        hand-crafted filters, through a slicing slip; fixed channels stay either way).
    min_count : int, default=1
        A channel stays when active in more than this many training instances (the
        authors: LITE 1, Inception 0).
    recovery : {"scratch", "finetune", "none"}, default="scratch"
        After pruning: retrain from a fresh initialisation, fine-tune the surviving weights
        without the penalty, or nothing.
    recovery_epochs : int or None, default=None
        Epochs of the recovery; ``None``: ``train.n_epochs`` for scratch, a third of it for
        finetune (the authors' 1500 and 500).
    uniform : bool, default=False
        Recover the uniform-width control instead of DSP's network (needs
        ``recovery="scratch"`` and a network that describes ``uniform_config``).
    train : TrainConfig
        Training of the sparsity phase; the recovery trains with the same settings for
        ``recovery_epochs``. ``train.seed`` seeds the batch order; weight initialisation
        (``recovery="scratch"``) draws from torch's global generator, so wrap the call in
        :func:`sparsetsc.train.seeded` for a reproducible result.
    analysis_batch_size : int, default=256
        Batch size of the activation analysis.
    """

    lam: float = 1e-5
    stage_weights: Sequence[float] | None = None
    penalize_fixed: bool = False
    min_count: int = 1
    recovery: str = "scratch"
    recovery_epochs: int | None = None
    uniform: bool = False
    train: TrainConfig = field(default_factory=TrainConfig)
    analysis_batch_size: int = 256

    def __post_init__(self) -> None:
        if not self.lam >= 0:
            raise ValueError(f"lam must be >= 0; got {self.lam}")
        if self.recovery not in RECOVERIES:
            raise ValueError(f"recovery must be one of {RECOVERIES}; got {self.recovery!r}")
        if self.uniform and self.recovery != "scratch":
            raise ValueError(
                "the uniform-width control is a new network: it needs recovery='scratch', "
                f"not {self.recovery!r}"
            )
        if self.recovery_epochs is not None and self.recovery_epochs < 1:
            raise ValueError(f"recovery_epochs must be >= 1; got {self.recovery_epochs}")
        if self.train.selection != "train_loss" or self.train.validation_size:
            raise ValueError(
                "DSP selects the sparsity phase by its total training loss: use "
                "TrainConfig(selection='train_loss') without a validation split"
            )

    @property
    def epochs_of_recovery(self) -> int:
        """Epochs the recovery trains (0 without recovery)."""
        if self.recovery == "none":
            return 0
        if self.recovery_epochs is not None:
            return self.recovery_epochs
        n_epochs = self.train.n_epochs
        return n_epochs if self.recovery == "scratch" else max(1, n_epochs // 3)


@dataclass
class DSPResult:
    """What :func:`fit_prune` produced."""

    network: nn.Module  # the delivered network: pruned (or the uniform control), recovered
    base: nn.Module  # the sparsity-trained network before pruning
    stages: list[PrunableStage]  # the base network's stages
    pruning: PruningResult  # the analysis: kept channels and activity counts per stage
    base_result: TrainResult  # the sparsity phase
    recovery_result: TrainResult | None  # the recovery (None with recovery="none")
    base_cost: ModelCost
    cost: ModelCost  # of the delivered network
    uniform_width: int | None = None  # width of the uniform control, when it was trained

    @property
    def result(self) -> TrainResult:
        """The training that produced the delivered network's weights."""
        return self.recovery_result or self.base_result

    @property
    def compression(self) -> dict[str, float]:
        """``1 - params / base params`` over trainable parameters and over all of them."""
        return {
            "trainable": 1 - self.cost.params_trainable / self.base_cost.params_trainable,
            "all": 1 - self.cost.params / self.base_cost.params,
        }

    @property
    def stage_widths(self) -> dict[str, int]:
        """Channels per stage before pruning."""
        return {name: len(mask) for name, mask in self.pruning.keep.items()}

    @property
    def kept_widths(self) -> dict[str, int]:
        """Channels per stage of the delivered network (DSP's, or the uniform control's)."""
        stages = stages_of(self.network) if self.uniform_width is not None else self.stages
        return stage_widths(self.network, stages)

    @property
    def group_widths(self) -> dict[str, list[int]]:
        """Channels per stage and group (e.g. branch) before pruning."""
        return {
            stage.output: [len(range(self.stage_widths[stage.output])[g]) for g in stage.groups]
            for stage in self.stages
        }

    @property
    def kept_group_widths(self) -> dict[str, list[int]]:
        """Channels per stage and group that the analysis kept."""
        keep = self.pruning.keep
        return {s.output: [int(keep[s.output][g].sum()) for g in s.groups] for s in self.stages}


def fit_prune(
    network: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    config: DSPConfig | None = None,
    *,
    stages: Sequence[PrunableStage] | None = None,
    device: str | torch.device = "cpu",
) -> DSPResult:
    """Run DSP on ``network``: sparsity training, activation analysis, rebuild, recovery.

    Parameters
    ----------
    network : nn.Module
        A freshly initialised network; it is trained in place (``DSPResult.base``).
    X : array of shape (n_cases, n_channels, n_timepoints)
        Training series (float; normalise them as the network expects).
    y : array of shape (n_cases,)
        Class indices ``0 .. n_classes - 1``.
    config : DSPConfig, optional
        The method's settings (default: the authors' ``lam`` and recovery).
    stages : sequence of PrunableStage, optional
        The network's prunable stages; default: its own description (``prunable_stages()``).
    device : str or torch.device, default="cpu"

    Returns
    -------
    DSPResult
        The delivered network (in eval mode) and everything about how it was obtained.
    """
    config = config or DSPConfig()
    device = resolve_device(device)
    stages = list(stages or stages_of(network))
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3 or len(X) != len(y):
        raise ValueError(
            f"X must be (n_cases, n_channels, n_timepoints) with one label per case; got X of "
            f"shape {X.shape} and {len(y)} labels"
        )
    n_channels, n_timepoints = X.shape[1], X.shape[2]
    if config.uniform:
        uniform_builder(network)  # refuses a network without a uniform form, before training

    sparsity = _sparsity_loss(network, stages, config)
    # the two phases' progress bars say which is which
    sparsity_phase = dataclasses.replace(
        config.train, description=f"{config.train.description}: sparsity phase"
    )
    base_result = fit_network(network, X, y, sparsity_phase, device, [sparsity])
    pruning = dsp_prune(network, X, config.min_count, stages, config.analysis_batch_size)
    delivered, uniform_width = pruning.network, None
    if config.uniform:
        target = model_cost(delivered, n_channels, n_timepoints).params_trainable
        uniform_width, delivered = uniform_control(network, target)
        delivered.to(device)
    recovery_result = None
    if config.recovery != "none":
        if config.recovery == "scratch":
            reinitialise(delivered)
        recovery = dataclasses.replace(
            config.train,
            n_epochs=config.epochs_of_recovery,
            description=f"{config.train.description}: retraining the pruned network",
        )
        recovery_result = fit_network(delivered, X, y, recovery, device)
    return DSPResult(
        network=delivered.eval(),
        base=network,
        stages=stages,
        pruning=pruning,
        base_result=base_result,
        recovery_result=recovery_result,
        base_cost=model_cost(network, n_channels, n_timepoints),
        cost=model_cost(delivered, n_channels, n_timepoints),
        uniform_width=uniform_width,
    )


def _sparsity_loss(
    network: nn.Module, stages: Sequence[PrunableStage], config: DSPConfig
) -> SparsityLoss:
    channels = {}
    if not config.penalize_fixed:
        widths = stage_widths(network, stages)
        for stage in stages:
            if stage.fixed:
                penalised = ~stage.fixed_mask(widths[stage.output])
                channels[stage.output] = np.flatnonzero(penalised).tolist()
    names = [stage.output for stage in stages]
    return SparsityLoss(names, config.stage_weights, config.lam, channels)


def reinitialise(network: nn.Module) -> None:
    """Fresh weights for every layer except the frozen hand-crafted filters."""
    for module in network.modules():
        if isinstance(module, HandCraftedFilters):
            continue
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()  # BatchNorm's also resets its running statistics
