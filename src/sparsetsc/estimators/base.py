"""Base class of every sparsetsc deep classifier (aeon / scikit-learn conventions).

Hyper-parameters are only stored in ``__init__``; everything learnt in ``fit`` ends with an
underscore. Input validation, label encoding and the fitted flag come from aeon's
``BaseClassifier``; this class adds clear errors for bad input, the shared training loop,
z-normalisation, device handling and saving. A subclass only says how to build its
network (and, optionally, how to train it: :meth:`BaseDeepClassifier._train`).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from aeon.classification.base import BaseClassifier
from torch import nn

from ..data.preprocess import UNEQUAL_LENGTH_STRATEGIES, znormalize
from ..data.validation import check_labels_seen, check_X, check_y
from ..train import (
    TrainConfig,
    TrainResult,
    fit_network,
    predict_proba,
    resolve_device,
    resolve_seed,
    seeded,
)
from .persistence import save_estimator

__all__ = ["BaseDeepClassifier", "FitPlan", "ValidatedClassifier"]


@dataclass
class FitPlan:
    """What one fit trains with: settings, device, seed and prepared data."""

    config: TrainConfig
    device: torch.device
    seed: int
    X: np.ndarray  # float32, z-normalised when the estimator normalises
    targets: np.ndarray  # class indices


class ValidatedClassifier(BaseClassifier):
    """aeon ``BaseClassifier`` with sparsetsc's input checks (clear errors, before any work).

    Subclasses say how short a series may be (:meth:`_min_timepoints`).
    """

    _tags = {
        "X_inner_type": "numpy3D",
        "capability:multivariate": True,
        "algorithm_type": "deeplearning",
        "python_dependencies": "torch",
        "non_deterministic": False,
        "cant_pickle": False,
    }

    @abstractmethod
    def _min_timepoints(self) -> int:
        """Shortest series the configured model can process."""

    def _preprocess_collection(self, X, store_metadata=True):
        # Our checks first: aeon raises TypeError/IndexError (or nothing, for inf) here.
        X = check_X(X, min_timepoints=self._min_timepoints(), model_name=type(self).__name__)
        if isinstance(X, list) and len({series.shape[-1] for series in X}) > 1:
            lengths = [series.shape[-1] for series in X]
            raise ValueError(
                f"X holds series of unequal length ({min(lengths)} to {max(lengths)} time "
                f"points); {type(self).__name__} needs one length. Bring them to one with "
                "sparsetsc.data.equalize_length(X, strategy, length), strategy one of "
                f"{', '.join(repr(s) for s in UNEQUAL_LENGTH_STRATEGIES if s != 'error')} "
                "(or load the dataset with unequal_length=...)"
            )
        return super()._preprocess_collection(X, store_metadata=store_metadata)

    def _check_shape(self, X):
        # aeon's message is a printed tuple; ours names both shapes.
        fitted = self.metadata_
        if not fitted:
            return
        channels, length = X.shape[1], X.shape[-1]
        if channels != fitted["n_channels"]:
            # another length can be fixed by resampling; another channel count cannot
            raise ValueError(
                f"X has {channels} channel(s) (shape {X.shape}) but {type(self).__name__} was "
                f"fitted on {fitted['n_channels']} channel(s); give series with the channels "
                "it was trained on, in the same order"
            )
        if length != fitted["n_timepoints"]:
            raise ValueError(
                f"X has {channels} channel(s) of {length} time points (shape {X.shape}) but "
                f"{type(self).__name__} was fitted on {fitted['n_channels']} channel(s) of "
                f"{fitted['n_timepoints']} time points; give series of that shape (e.g. "
                "sparsetsc.data.equalize_length(X, 'resample', "
                f"{fitted['n_timepoints']}) for another length)"
            )

    def _check_y(self, y, n_cases, update_classes=True, **kwargs):
        if not update_classes:
            # score(): one class is fine, but every label must be one the model can predict.
            labels = check_y(y, n_cases, min_classes=1)
            check_labels_seen(labels, self.classes_)
            return labels
        return super()._check_y(check_y(y, n_cases), n_cases, **kwargs)


class BaseDeepClassifier(ValidatedClassifier):
    """Shared ``fit`` / ``predict`` / ``predict_proba`` / ``score`` / ``save`` for deep models.

    User guide: <https://sparsetsc.github.io/sparsetsc/getting-started/first-fit/>.

    Subclasses define ``__init__`` (listing every hyper-parameter explicitly, as scikit-learn
    requires) and name their network (``_network_class``, ``_network_params``); they may
    override :meth:`_build_network`, :meth:`_train_config` and :meth:`_train`.

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained network (selected checkpoint), in eval mode, on ``device_``.
    classes_ : np.ndarray
        Class labels seen in ``fit``; ``predict`` returns values from it.
    history_ : list of dict
        Per-epoch training record (loss, lr, validation metrics when used, seconds).
    selected_epoch_ : int
        1-based epoch whose weights were kept.
    seed_ : int
        The integer seed actually used (derived from ``random_state``).
    batch_size_ : int
        The batch size actually used.
    device_ : str
        The device the network lives on.
    precision_ : str
        ``"fp32"`` or ``"bf16"``: what ``precision`` resolved to; predictions use it too.
    """

    # Fitted attributes (besides the network and the labels) that save() writes as JSON.
    _fitted_json_attributes = ("history_", "selected_epoch_", "seed_", "batch_size_", "precision_")

    # ------------------------------------------------------------------ what a subclass says
    #: The network class (a registered sparsetsc network) and the hyper-parameters that are
    #: fields of its config, passed on by name.
    _network_class: type[nn.Module]
    _network_params: tuple[str, ...] = ()
    #: The hyper-parameters that are fields of :class:`~sparsetsc.train.TrainConfig`.
    _training_params = (
        "n_epochs",
        "batch_size",
        "lr",
        "lr_schedule",
        "min_lr",
        "selection",
        "validation_size",
        "verbose",
        "precision",
    )
    #: Whether members of an ensemble of this estimator may train together as one vectorised
    #: model (:func:`sparsetsc.train.fit_networks`): plain training by :meth:`_train`.
    _batchable = True

    def _network_config(self, n_channels: int, n_classes: int, **overrides: Any) -> Any:
        """The network's config for this input shape (validates the architecture)."""
        params = {name: getattr(self, name) for name in self._network_params}
        return self._network_class.config_class(n_channels, n_classes, **{**params, **overrides})

    def _build_network(self, n_channels: int, n_timepoints: int, n_classes: int) -> nn.Module:
        """A freshly initialised network for this input shape."""
        return self._network_class(self._network_config(n_channels, n_classes))

    def _min_timepoints(self) -> int:
        # Building the config validates the architecture before any data is touched.
        return self._network_config(1, 2).min_timepoints

    def _train_config(self) -> TrainConfig:
        params = {name: getattr(self, name) for name in self._training_params}
        return TrainConfig(**params, description=type(self).__name__)

    def _train(self, network: nn.Module, plan: FitPlan) -> tuple[nn.Module, TrainResult]:
        """Train the freshly built ``network`` (under the fit's seed); return the fitted
        network and its training record. Subclasses that train differently (dynamic sparse
        training, DSP's pipeline) replace this, and may record fitted attributes here."""
        return network, fit_network(network, plan.X, plan.targets, plan.config, plan.device)

    # ------------------------------------------------------------------ fit / predict
    def _prepare(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return znormalize(X) if self.normalize else X

    def _fit(self, X: np.ndarray, y: np.ndarray) -> BaseDeepClassifier:
        plan = self._plan_fit(X, y)
        with seeded(plan.seed, plan.device):
            network = self._build_network(plan.X.shape[1], plan.X.shape[2], self.n_classes_)
            network, result = self._train(network, plan)
        self._finish_fit(plan, network, result)
        return self

    def _plan_fit(self, X: np.ndarray, y: np.ndarray) -> FitPlan:
        """Validated training settings and prepared data for one fit (no network yet)."""
        config = self._train_config()  # validates the hyper-parameters before any work
        device = resolve_device(self.device)
        seed = resolve_seed(self.random_state)
        config.seed = seed
        targets = np.array([self._class_dictionary[label] for label in y], dtype=np.int64)
        return FitPlan(config, device, seed, self._prepare(X), targets)

    def _finish_fit(self, plan: FitPlan, network: nn.Module, result: TrainResult) -> None:
        """Store the trained network and the fitted attributes."""
        self.network_ = network
        self.history_ = result.history
        self.selected_epoch_ = result.selected_epoch
        self.batch_size_ = result.batch_size
        self.precision_ = result.precision
        self.seed_ = plan.seed
        self.device_ = str(plan.device)

    def _inference_network(self, device: torch.device) -> nn.Module:
        """The network predictions run through on ``device``: ``network_``, or a faster
        equivalent a subclass substitutes (DSN's sparse kernels on CPU)."""
        return self.network_

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        device = torch.device(self.device_)
        precision = self.__dict__.get("precision_", "fp32")  # saved before precision existed
        network = self._inference_network(device)
        return predict_proba(network, self._prepare(X), device, precision=precision)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self._predict_proba(X), axis=1)]

    # ------------------------------------------------------------------ saving
    def save(self, path: str) -> None:
        """Save the fitted model to the directory ``path`` (safetensors + JSON, no pickle).

        Reload it with :func:`sparsetsc.load`. The directory is written atomically: a
        crash leaves either the previous content or the complete new model.
        """
        save_estimator(self, path)

    def _fitted_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fitted_json_attributes}
