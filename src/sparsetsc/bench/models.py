"""The models a sweep can run: every estimator of the library plus in-run peers from aeon.

Each model has a short key (what ``--models`` takes, as in ``sparsetsc fit --model``) and a
display name (the results folder and the name in reports, spelled as in the published
tables so that ``--against InceptionTime`` lines up with our own ``InceptionTime``).
"""

from __future__ import annotations

from typing import Any

from .. import _names
from ..estimators import MODEL_PARAMS, MODELS
from ..train import DEFAULT_PRECISION

__all__ = ["DISPLAY_NAMES", "PEERS", "available_models", "make_estimator"]

#: ROCKET-family peers from aeon, measured in the same sweep on the same machine.
PEERS = _names.PEER_KEYS

#: Results-folder and report name of each model key.
DISPLAY_NAMES = {
    "dsn": "DSN",
    "dsp-inception": "DSP-Inception",
    "dsp-inceptiontime": "DSP-InceptionTime",
    "dsp-lite": "DSP-LITE",
    "dsp-litetime": "DSP-LITETime",
    "fcn": "FCN",
    "hinceptiontime": "H-InceptionTime",
    "inception": "Inception",
    "inceptiontime": "InceptionTime",
    "lite": "LITE",
    "litetime": "LITETime",
    "rocket": "ROCKET",
    "minirocket": "MiniROCKET",
}


def available_models() -> list[str]:
    """Model keys a sweep accepts."""
    return sorted(MODELS) + list(PEERS)


def _peer(model: str, random_state: int) -> Any:
    from aeon.classification.convolution_based import MiniRocketClassifier, RocketClassifier

    peer = {"rocket": RocketClassifier, "minirocket": MiniRocketClassifier}[model]
    return peer(random_state=random_state)


def make_estimator(
    model: str,
    random_state: int,
    epochs: int | None = None,
    device: str = "cpu",
    params: dict[str, Any] | None = None,
    precision: str = DEFAULT_PRECISION,
) -> Any:
    """A fresh, unfitted estimator for ``model`` with the sweep's seed and epoch budget.

    ``epochs`` and ``precision`` apply to the deep models only (the peers train in closed
    form, in float64). ``params`` overrides hyper-parameters by name.
    """
    if model in PEERS:
        estimator = _peer(model, random_state)
    elif model in MODELS:
        settings: dict[str, Any] = {
            **MODEL_PARAMS.get(model, {}),
            "random_state": random_state,
            "device": device,
            "precision": precision,
            "verbose": False,
        }
        if epochs is not None:
            settings["n_epochs"] = epochs
        estimator = MODELS[model](**settings)
    else:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(available_models())}")
    if params:
        unknown = sorted(set(params) - set(estimator.get_params()))
        if unknown:
            raise ValueError(
                f"{model} has no parameter {', '.join(unknown)}; "
                f"it has {', '.join(sorted(estimator.get_params()))}"
            )
        estimator.set_params(**params)
    return estimator
