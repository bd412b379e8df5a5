"""sparsetsc: efficient deep time-series classification.

Dynamic sparse networks (DSN) and dynamic structured pruning (DSP), with the backbones,
data handling, training, evaluation and deployment around them.

The names below are imported on first use (PEP 562), so that ``import sparsetsc`` stays
fast: torch, aeon and numba load when an estimator or a loader is first touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# Every public name of the facade and the subpackage that defines it.
_DATA_NAMES = ("list_datasets", "load_dataset", "load_train_test")
_ESTIMATOR_NAMES = (
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
)
_HOME = {name: ".data" for name in _DATA_NAMES} | {name: ".estimators" for name in _ESTIMATOR_NAMES}

__all__ = ["__version__", *_DATA_NAMES, *_ESTIMATOR_NAMES]
# ``sparsetsc.data`` and the like work after a bare ``import sparsetsc``, as they did when
# the package imported them eagerly.
_SUBPACKAGES = ("data", "nn", "cost", "train", "sparse", "prune", "estimators", "export")
_SUBPACKAGES += ("bench", "report", "cli")

if TYPE_CHECKING:
    from .data import list_datasets as list_datasets
    from .data import load_dataset as load_dataset
    from .data import load_train_test as load_train_test
    from .estimators import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _HOME:
        raise AttributeError(f"module 'sparsetsc' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
