"""Public estimators (scikit-learn / aeon conventions) and their registries."""

from __future__ import annotations

from .base import BaseDeepClassifier
from .dsn import DSNClassifier
from .dsp import DSPClassifier
from .ensemble import (
    DSPInceptionTimeClassifier,
    DSPLITETimeClassifier,
    EnsembleClassifier,
    HInceptionTimeClassifier,
    InceptionTimeClassifier,
    LITETimeClassifier,
)
from .fcn import FCNClassifier
from .lite import InceptionClassifier, LITEClassifier
from .persistence import load

__all__ = [
    "ESTIMATORS",
    "MODELS",
    "BaseDeepClassifier",
    "DSNClassifier",
    "DSPClassifier",
    "DSPInceptionTimeClassifier",
    "DSPLITETimeClassifier",
    "EnsembleClassifier",
    "FCNClassifier",
    "HInceptionTimeClassifier",
    "InceptionClassifier",
    "InceptionTimeClassifier",
    "LITEClassifier",
    "LITETimeClassifier",
    "MODEL_PARAMS",
    "load",
]

#: Estimator classes by class name: what :func:`load` may instantiate.
ESTIMATORS = {
    cls.__name__: cls
    for cls in (
        DSNClassifier,
        DSPClassifier,
        DSPInceptionTimeClassifier,
        DSPLITETimeClassifier,
        EnsembleClassifier,
        FCNClassifier,
        HInceptionTimeClassifier,
        InceptionClassifier,
        InceptionTimeClassifier,
        LITEClassifier,
        LITETimeClassifier,
    )
}

#: Estimator classes by the short model name used on the command line (``--model fcn``).
MODELS = {
    "dsn": DSNClassifier,
    "dsp-inception": DSPClassifier,
    "dsp-inceptiontime": DSPInceptionTimeClassifier,
    "dsp-lite": DSPClassifier,
    "dsp-litetime": DSPLITETimeClassifier,
    "fcn": FCNClassifier,
    "hinceptiontime": HInceptionTimeClassifier,
    "inception": InceptionClassifier,
    "inceptiontime": InceptionTimeClassifier,
    "lite": LITEClassifier,
    "litetime": LITETimeClassifier,
}

#: Hyper-parameters a command-line model name implies (``--model dsp-inception``).
MODEL_PARAMS: dict[str, dict] = {
    "dsp-inception": {"backbone": "inception"},
    "dsp-lite": {"backbone": "lite"},
}
