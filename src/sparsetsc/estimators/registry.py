"""The library's estimators by name, and :func:`load`, which may build only these."""

from __future__ import annotations

import inspect
import os
from typing import Any

from . import dsn, dsp, ensemble, fcn, lite
from .base import ValidatedClassifier
from .dsn import DSNClassifier
from .dsp import DSPClassifier
from .ensemble import (
    DSPInceptionTimeClassifier,
    DSPLITETimeClassifier,
    HInceptionTimeClassifier,
    InceptionTimeClassifier,
    LITETimeClassifier,
)
from .fcn import FCNClassifier
from .lite import InceptionClassifier, LITEClassifier
from .persistence import load_estimator

__all__ = ["ESTIMATORS", "MODELS", "MODEL_PARAMS", "load"]

#: Estimator classes by class name: every concrete public classifier of the estimator
#: modules, and all that :func:`load` may instantiate.
ESTIMATORS: dict[str, type[ValidatedClassifier]] = {
    name: cls
    for module in (dsn, dsp, ensemble, fcn, lite)
    for name, cls in sorted(vars(module).items())
    if isinstance(cls, type)
    and issubclass(cls, ValidatedClassifier)
    and cls.__module__ == module.__name__
    and not name.startswith("_")
    and not inspect.isabstract(cls)
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

    Raises
    ------
    ModelFileError
        A ``ValueError`` naming the file, for a directory that is not a saved model, a
        damaged file, or parts that disagree (see :func:`~.persistence.load_estimator`).
    """
    return load_estimator(path, ESTIMATORS, device)
