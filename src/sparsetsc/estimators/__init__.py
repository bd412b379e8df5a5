"""Public estimators (scikit-learn / aeon conventions) and their registries."""

from __future__ import annotations

from .base import BaseDeepClassifier
from .dsn import DSNClassifier
from .fcn import FCNClassifier
from .persistence import load

__all__ = ["BaseDeepClassifier", "DSNClassifier", "FCNClassifier", "ESTIMATORS", "MODELS", "load"]

#: Estimator classes by class name: what :func:`load` may instantiate.
ESTIMATORS: dict[str, type[BaseDeepClassifier]] = {
    "DSNClassifier": DSNClassifier,
    "FCNClassifier": FCNClassifier,
}

#: Estimator classes by the short model name used on the command line (``--model fcn``).
MODELS: dict[str, type[BaseDeepClassifier]] = {"dsn": DSNClassifier, "fcn": FCNClassifier}
