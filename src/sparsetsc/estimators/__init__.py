"""Public estimators (scikit-learn / aeon conventions), their registries and ``load``.

Layer 7 of data → nn → cost → train → sparse → prune → **estimators** → export → bench →
report → cli: thin wrappers over the layers below; nothing here is imported by them.
"""

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
from .persistence import ModelFileError
from .registry import ESTIMATORS, MODEL_PARAMS, MODELS, load

__all__ = [
    "ESTIMATORS",
    "MODELS",
    "MODEL_PARAMS",
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
    "ModelFileError",
    "load",
]
