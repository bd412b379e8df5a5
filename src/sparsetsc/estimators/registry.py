"""The library's estimators by name, and :func:`load`, which may build only these."""

from __future__ import annotations

import os
from typing import Any

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
from .persistence import load_estimator

__all__ = ["ESTIMATORS", "MODELS", "MODEL_PARAMS", "load"]

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


def load(path: str | os.PathLike, device: str = "cpu") -> Any:
    """Load a sparsetsc estimator saved with ``save``; it predicts exactly as the saved one did.

    Parameters
    ----------
    path : str or Path
        Directory written by ``estimator.save(path)``.
    device : str, default="cpu"
        Where to put the network(s) (``"auto"`` picks CUDA when available).
    """
    return load_estimator(path, ESTIMATORS, device)
