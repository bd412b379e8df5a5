"""sparsetsc: efficient deep time-series classification.

Dynamic sparse networks (DSN) and dynamic structured pruning (DSP), with the backbones,
data handling, training, evaluation and deployment around them.
"""

from __future__ import annotations

from . import estimators as _estimators
from ._version import __version__
from .data import list_datasets, load_dataset, load_train_test
from .estimators import *  # noqa: F403 -- every public estimator, the registries and load

__all__ = ["__version__", "list_datasets", "load_dataset", "load_train_test"]
__all__ += _estimators.__all__
