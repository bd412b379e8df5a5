"""Ensembles of deep classifiers: LITETime, InceptionTime, H-InceptionTime, and any estimator.

An ensemble trains ``n_members`` copies of one estimator from different random
initialisations and averages their class probabilities (Ismail Fawaz et al., 2020: "NNE").
Member seeds are drawn from ``random_state`` as aeon does (``check_random_state`` then one
``randint`` per member), so a fixed ``random_state`` gives the same members.

Members that train without callbacks (LITE, Inception, FCN) can be trained together as one
vectorised model by :func:`sparsetsc.train.fit_networks`: same initial weights, same
batches, same optimiser and schedule per member as when trained one by one, but one pass of
operations for all members. That pays where per-operation overhead dominates (GPUs); on CPU
the members' work is compute-bound and the grouped kernels are slower, so ``batched="auto"``
batches on CUDA only. Others (DSN, whose sparse training is a callback) always train one
after the other.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..train import DEFAULT_PRECISION, VECTORISED_SELECTIONS, fit_networks, resolve_device, seeded
from .base import BaseDeepClassifier, ValidatedClassifier
from .dsp import DSPClassifier
from .lite import InceptionClassifier, LITEClassifier
from .persistence import save_estimator

__all__ = [
    "DSPInceptionTimeClassifier",
    "DSPLITETimeClassifier",
    "EnsembleClassifier",
    "HInceptionTimeClassifier",
    "InceptionTimeClassifier",
    "LITETimeClassifier",
]

_MAX_SEED = np.iinfo(np.int32).max


class BaseEnsemble(ValidatedClassifier):
    """Shared fit / predict of the ensembles; subclasses say what one member is.

    Attributes
    ----------
    estimators_ : list of BaseDeepClassifier
        The fitted members (each a complete, usable classifier).
    member_seeds_ : list of int
        The ``random_state`` of each member.
    batched_ : bool
        Whether the members were trained together as one vectorised model.
    classes_ : np.ndarray
        Class labels seen in ``fit``.
    """

    _fitted_json_attributes = ("member_seeds_", "batched_")

    @abstractmethod
    def _member_template(self) -> BaseDeepClassifier:
        """An unfitted member with every hyper-parameter set except its ``random_state``."""

    def _min_timepoints(self) -> int:
        return self._member_template()._min_timepoints()

    def _batching_obstacle(self, template: BaseDeepClassifier) -> str | None:
        """Why the members cannot train as one batched model, or ``None`` if they can."""
        if not template._batchable:
            return f"{type(template).__name__} trains with callbacks"
        config = template._train_config()
        if config.selection not in VECTORISED_SELECTIONS or config.validation_size:
            return f"selection={config.selection!r} with a validation split"
        return None

    def _fit(self, X: np.ndarray, y: np.ndarray) -> BaseEnsemble:
        n_members = self.n_members
        if (
            not isinstance(n_members, (int, np.integer))
            or isinstance(n_members, bool)
            or (n_members < 1)
        ):
            raise ValueError(f"n_members must be a positive int; got {n_members!r}")
        batched_param = self.batched
        if batched_param not in (True, False, "auto"):
            raise ValueError(f"batched must be True, False or 'auto'; got {batched_param!r}")
        template = self._member_template()
        obstacle = self._batching_obstacle(template)
        if batched_param is True and obstacle is not None:
            raise ValueError(f"batched=True is impossible: {obstacle}; use batched='auto'")
        # "auto" batches on CUDA only: on CPU the work is compute-bound (threads already
        # scale ~1.8x on 2 cores) and oneDNN's grouped kernels are slower than the members'
        # separate ones, so batching measured 0.8-1.0x there (benchmarks/ensemble_speed.py).
        on_cuda = resolve_device(template.device).type == "cuda"
        batched = (
            obstacle is None
            and n_members > 1
            and (batched_param is True or (batched_param == "auto" and on_cuda))
        )

        rng = check_random_state(self.random_state)
        seeds = [int(rng.randint(0, _MAX_SEED)) for _ in range(n_members)]
        members = [clone(template).set_params(random_state=seed) for seed in seeds]
        for member in members:
            self._share_label_state(member)
        if batched:
            self._fit_members_together(members, X, y)
        else:
            for member in members:
                member._fit(X, y)
                member.is_fitted = True
        self.estimators_ = members
        self.member_seeds_ = seeds
        self.batched_ = batched
        self._summarise_members()
        return self

    def _summarise_members(self) -> None:
        """Record ensemble-level fitted attributes from the fitted members (none here)."""

    def _share_label_state(self, member: BaseDeepClassifier) -> None:
        # The ensemble has validated X and y (aeon's fit); members reuse that state.
        member.classes_ = self.classes_
        member.n_classes_ = self.n_classes_
        member._class_dictionary = dict(self._class_dictionary)
        member.metadata_ = dict(self.metadata_)

    def _fit_members_together(
        self, members: list[BaseDeepClassifier], X: np.ndarray, y: np.ndarray
    ) -> None:
        plans = [member._plan_fit(X, y) for member in members]
        networks = []
        for member, plan in zip(members, plans, strict=True):
            with seeded(plan.seed, plan.device):  # the initialisation it would get alone
                networks.append(member._build_network(X.shape[1], X.shape[2], self.n_classes_))
        first = plans[0]
        with seeded(first.seed, first.device):
            results = fit_networks(
                networks,
                first.X,
                first.targets,
                first.config,
                first.device,
                [plan.seed for plan in plans],
            )
        for member, plan, network, result in zip(members, plans, networks, results, strict=True):
            member._finish_fit(plan, network, result)
            member.is_fitted = True

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.mean([member._predict_proba(X) for member in self.estimators_], axis=0)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        # The first most probable class on ties (aeon breaks ties at random).
        return self.classes_[np.argmax(self._predict_proba(X), axis=1)]

    def save(self, path: str) -> None:
        """Save the fitted ensemble to the directory ``path`` (one sub-directory per member).

        Reload it with :func:`sparsetsc.load`; the directory is written atomically.
        """
        save_estimator(self, path)

    def _fitted_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fitted_json_attributes}


class EnsembleClassifier(BaseEnsemble):
    """Ensemble of any sparsetsc classifier: mean of ``n_members`` members' probabilities.

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/#ensembles>.

    Parameters
    ----------
    estimator : BaseDeepClassifier
        The member (unfitted); each member is a clone with its own ``random_state``.
    n_members : int, default=5
        Ensemble size.
    batched : bool or "auto", default="auto"
        Train the members together as one vectorised model. ``"auto"``: when the estimator
        allows it (no training callbacks, ``selection`` "train_loss" or "last") and trains on
        CUDA; ``True`` demands it (also on CPU); ``False`` trains them one after the other.
    random_state : int, RandomState or None, default=None
        Draws the members' seeds.

    Examples
    --------
    >>> from sparsetsc import DSNClassifier, EnsembleClassifier
    >>> ensemble = EnsembleClassifier(DSNClassifier(n_epochs=100), n_members=3, random_state=0)
    """

    def __init__(
        self,
        estimator: BaseDeepClassifier | None = None,
        n_members: int = 5,
        batched: bool | str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.batched = batched
        self.random_state = random_state
        super().__init__()

    def _member_template(self) -> BaseDeepClassifier:
        if not isinstance(self.estimator, BaseDeepClassifier):
            raise ValueError(
                "EnsembleClassifier needs estimator= a sparsetsc classifier (e.g. "
                f"LITEClassifier()); got {self.estimator!r}"
            )
        return clone(self.estimator)

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {
            "estimator": LITEClassifier(**LITEClassifier._get_test_params()),
            "n_members": 2,
            "random_state": 0,
        }


class _NamedEnsemble(BaseEnsemble):
    """An ensemble whose hyper-parameters are its member's, plus :data:`ENSEMBLE_PARAMS`.

    Every hyper-parameter of the member class is one of the ensemble's too, except those in
    :data:`NOT_FROM_ENSEMBLE` and those the class fixes (``_fixed_member_params``); a test
    holds every ensemble to this, so an ensemble cannot silently drop a member setting.
    """

    #: Hyper-parameters of the ensemble itself.
    ENSEMBLE_PARAMS = ("n_members", "batched")
    #: Member hyper-parameters the ensemble sets itself: each member gets its own seed,
    #: drawn from the ensemble's ``random_state``.
    NOT_FROM_ENSEMBLE = ("random_state",)

    _member_class: type[BaseDeepClassifier]
    _fixed_member_params: dict[str, Any] = {}

    @classmethod
    def member_param_names(cls) -> list[str]:
        """The member hyper-parameters this ensemble passes on (all of them but the fixed
        ones and :data:`NOT_FROM_ENSEMBLE`)."""
        excluded = set(cls.NOT_FROM_ENSEMBLE) | set(cls._fixed_member_params)
        return [name for name in cls._member_class._get_param_names() if name not in excluded]

    def _member_template(self) -> BaseDeepClassifier:
        params = {name: getattr(self, name) for name in self.member_param_names()}
        return self._member_class(**params, **self._fixed_member_params)


class LITETimeClassifier(_NamedEnsemble):
    """LITETime: an ensemble of 5 :class:`LITEClassifier` (Ismail-Fawaz et al., DSAA 2023).

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/>.

    Parameters
    ----------
    n_members : int, default=5
        Ensemble size.
    n_filters, kernel_size, use_dilation, hand_crafted
        The members' architecture, as in :class:`LITEClassifier`.
    n_epochs, batch_size, lr, lr_schedule, min_lr, selection, validation_size, normalize, \
device, precision, verbose
        The members' training, as in :class:`LITEClassifier` (published defaults).
    batched : bool or "auto", default="auto"
        Train the members together as one vectorised model (see :class:`EnsembleClassifier`).
    random_state : int, RandomState or None, default=None
        Draws the members' seeds.
    """

    _member_class = LITEClassifier

    def __init__(
        self,
        n_members: int = 5,
        n_filters: int = 32,
        kernel_size: int = 40,
        use_dilation: bool = True,
        hand_crafted: bool = True,
        n_epochs: int = 1500,
        batch_size: int | str = 64,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        batched: bool | str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.n_members = n_members
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.use_dilation = use_dilation
        self.hand_crafted = hand_crafted
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
        self.batched = batched
        self.random_state = random_state
        super().__init__()

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {**LITEClassifier._get_test_params(), "n_members": 2}


class InceptionTimeClassifier(_NamedEnsemble):
    """InceptionTime: an ensemble of 5 :class:`InceptionClassifier` (Ismail Fawaz et al. 2020).

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/>.

    Parameters
    ----------
    n_members : int, default=5
        Ensemble size.
    n_filters, depth, kernel_size, bottleneck_size, use_bottleneck, use_residual, \
hand_crafted
        The members' architecture, as in :class:`InceptionClassifier`.
    n_epochs, batch_size, lr, lr_schedule, min_lr, selection, validation_size, normalize, \
device, precision, verbose
        The members' training, as in :class:`InceptionClassifier` (published defaults).
    batched : bool or "auto", default="auto"
        Train the members together as one vectorised model (see :class:`EnsembleClassifier`).
    random_state : int, RandomState or None, default=None
        Draws the members' seeds.
    """

    _member_class = InceptionClassifier

    def __init__(
        self,
        n_members: int = 5,
        n_filters: int = 32,
        depth: int = 6,
        kernel_size: int = 40,
        bottleneck_size: int = 32,
        use_bottleneck: bool = True,
        use_residual: bool = True,
        hand_crafted: bool = False,
        n_epochs: int = 1500,
        batch_size: int | str = 64,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        batched: bool | str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.n_members = n_members
        self.n_filters = n_filters
        self.depth = depth
        self.kernel_size = kernel_size
        self.bottleneck_size = bottleneck_size
        self.use_bottleneck = use_bottleneck
        self.use_residual = use_residual
        self.hand_crafted = hand_crafted
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
        self.batched = batched
        self.random_state = random_state
        super().__init__()

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {**InceptionClassifier._get_test_params(), "n_members": 2}


class HInceptionTimeClassifier(InceptionTimeClassifier):
    """H-InceptionTime: InceptionTime whose first module adds the 17 hand-crafted filters.

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/>.

    Ismail-Fawaz et al., IEEE BigData 2022. The same hyper-parameters as
    :class:`InceptionTimeClassifier`, with ``hand_crafted=True`` by default.
    """

    def __init__(
        self,
        n_members: int = 5,
        n_filters: int = 32,
        depth: int = 6,
        kernel_size: int = 40,
        bottleneck_size: int = 32,
        use_bottleneck: bool = True,
        use_residual: bool = True,
        hand_crafted: bool = True,
        n_epochs: int = 1500,
        batch_size: int | str = 64,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        batched: bool | str = "auto",
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            n_members=n_members,
            n_filters=n_filters,
            depth=depth,
            kernel_size=kernel_size,
            bottleneck_size=bottleneck_size,
            use_bottleneck=use_bottleneck,
            use_residual=use_residual,
            hand_crafted=hand_crafted,
            n_epochs=n_epochs,
            batch_size=batch_size,
            lr=lr,
            lr_schedule=lr_schedule,
            min_lr=min_lr,
            selection=selection,
            validation_size=validation_size,
            normalize=normalize,
            device=device,
            precision=precision,
            verbose=verbose,
            batched=batched,
            random_state=random_state,
        )

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {**InceptionClassifier._get_test_params(), "n_members": 2}


class _DSPEnsemble(_NamedEnsemble):
    """Five DSP members; compression is summed over members, as the DSP authors report it."""

    _member_class = DSPClassifier
    _fitted_json_attributes = BaseEnsemble._fitted_json_attributes + ("compression_",)

    def _summarise_members(self) -> None:
        base = [m.base_cost_ for m in self.estimators_]
        pruned = [m.pruned_cost_ for m in self.estimators_]
        self.compression_ = {
            "trainable": 1
            - sum(p["params_trainable"] for p in pruned) / sum(b["params_trainable"] for b in base),
            "all": 1 - sum(p["params"] for p in pruned) / sum(b["params"] for b in base),
        }

    def __init__(
        self,
        n_members: int = 5,
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
        batched: bool | str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.n_members = n_members
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
        self.batched = batched
        self.random_state = random_state
        super().__init__()

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {**DSPClassifier._get_test_params(), "n_members": 2}


class DSPLITETimeClassifier(_DSPEnsemble):
    """DSP-LITETime: five :class:`DSPClassifier` LITE members, probabilities averaged.

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/dsp/>.

    Hyper-parameters as :class:`DSPClassifier` (the backbone is LITE), plus ``n_members``
    and ``batched`` (DSP's sparsity loss is a callback, so members always train in turn:
    ``True`` raises). ``compression_`` is ``1 - sum(pruned params) / sum(base params)``
    over the members; ``widths="uniform"`` makes every member its own uniform control.
    """

    _fixed_member_params = {"backbone": "lite"}


class DSPInceptionTimeClassifier(_DSPEnsemble):
    """DSP-InceptionTime: five :class:`DSPClassifier` Inception members, probabilities averaged.

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/dsp/>.

    Hyper-parameters as :class:`DSPClassifier` (the backbone is Inception), plus
    ``n_members`` and ``batched`` (as for :class:`DSPLITETimeClassifier`). ``compression_``
    is ``1 - sum(pruned params) / sum(base params)``.
    """

    _fixed_member_params = {"backbone": "inception"}
