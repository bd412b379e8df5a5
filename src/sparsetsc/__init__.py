"""sparsetsc: efficient deep time-series classification.

Dynamic sparse networks (DSN) and dynamic structured pruning (DSP), with the backbones,
data handling, training, evaluation and deployment around them.
"""

from __future__ import annotations

from ._version import __version__
from .data import list_datasets, load_dataset, load_train_test
from .estimators import (
    DSNClassifier,
    DSPClassifier,
    EnsembleClassifier,
    FCNClassifier,
    HInceptionTimeClassifier,
    InceptionClassifier,
    InceptionTimeClassifier,
    LITEClassifier,
    LITETimeClassifier,
    load,
)

__all__ = [
    "DSNClassifier",
    "DSPClassifier",
    "EnsembleClassifier",
    "FCNClassifier",
    "HInceptionTimeClassifier",
    "InceptionClassifier",
    "InceptionTimeClassifier",
    "LITEClassifier",
    "LITETimeClassifier",
    "__version__",
    "list_datasets",
    "load",
    "load_dataset",
    "load_train_test",
]
