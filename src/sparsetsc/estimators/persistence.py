"""Save and load fitted estimators without pickle.

A saved model is a directory with ``model.safetensors`` (the network's tensors) and
``config.json`` (estimator class and hyper-parameters, network name and config, class labels,
input metadata and a few fitted attributes). Loading parses JSON and reads raw tensors, then
rebuilds the network from the registry, so an untrusted model directory executes no code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file, save_file

from .. import __version__
from ..nn import build_network, network_config
from ..train import resolve_device

__all__ = ["save_estimator", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_WEIGHTS = "model.safetensors"
_CONFIG = "config.json"


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        return None  # the integer seed actually used is saved as seed_
    return value


def _write_atomically(target: Path, write: Any) -> None:
    """Write a directory via a sibling temporary directory and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(staging)
        if target.exists():
            if not target.is_dir() or (
                not (target / _CONFIG).is_file() and any(target.iterdir())
            ):
                raise FileExistsError(
                    f"{target} exists and is not a sparsetsc model directory; not overwriting it"
                )
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, retired / "model")
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def save_estimator(estimator: Any, path: str | os.PathLike) -> Path:
    """Save a fitted sparsetsc estimator to the directory ``path``; return the path."""
    estimator._check_is_fitted()
    name, net_config = network_config(estimator.network_)
    classes = estimator.classes_
    config = {
        "format_version": FORMAT_VERSION,
        "sparsetsc_version": __version__,
        "estimator": type(estimator).__name__,
        "params": {k: _json_value(v) for k, v in estimator.get_params(deep=False).items()},
        "network": {"name": name, "config": net_config},
        "classes": classes.tolist(),
        "classes_dtype": classes.dtype.str,
        "metadata": {k: _json_value(v) for k, v in estimator.metadata_.items()},
        "fitted": {k: _json_value(v) for k, v in estimator._fitted_state().items()},
    }
    tensors = {
        k: v.detach().to("cpu").contiguous() for k, v in estimator.network_.state_dict().items()
    }
    json_text = json.dumps(config, indent=2, allow_nan=False)  # fail before writing anything

    def write(folder: Path) -> None:
        save_file(tensors, str(folder / _WEIGHTS), metadata={"format": "pt"})
        (folder / _CONFIG).write_text(json_text, encoding="utf-8")

    target = Path(path)
    _write_atomically(target, write)
    return target


def load(path: str | os.PathLike, device: str = "cpu") -> Any:
    """Load an estimator saved with ``save``; it predicts exactly as the saved one did.

    Parameters
    ----------
    path : str or Path
        Directory written by ``estimator.save(path)``.
    device : str, default="cpu"
        Where to put the network (``"auto"`` picks CUDA when available).
    """
    from . import ESTIMATORS  # the registry of estimator classes lives in the package

    folder = Path(path)
    config_file, weights_file = folder / _CONFIG, folder / _WEIGHTS
    if not config_file.is_file() or not weights_file.is_file():
        raise FileNotFoundError(
            f"{folder} is not a saved sparsetsc model (expected {_CONFIG} and {_WEIGHTS})"
        )
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{folder}: unsupported model format {config.get('format_version')!r} "
            f"(this sparsetsc reads format {FORMAT_VERSION})"
        )
    estimator_class = ESTIMATORS.get(config["estimator"])
    if estimator_class is None:
        raise ValueError(f"{folder}: unknown estimator {config['estimator']!r}")

    defaults = estimator_class().get_params(deep=False)
    params = {
        k: tuple(v) if isinstance(defaults.get(k), tuple) and isinstance(v, list) else v
        for k, v in config["params"].items()
    }
    estimator = estimator_class(**params)
    network = build_network(config["network"]["name"], config["network"]["config"])
    network.load_state_dict(load_file(str(weights_file), device="cpu"), strict=True)
    target_device = resolve_device(device)
    network.to(target_device).eval()

    classes = np.asarray(config["classes"], dtype=np.dtype(config["classes_dtype"]))
    estimator.classes_ = classes
    estimator.n_classes_ = len(classes)
    estimator._class_dictionary = {label: i for i, label in enumerate(classes)}
    estimator.metadata_ = dict(config["metadata"])
    for name, value in config["fitted"].items():
        setattr(estimator, name, value)
    estimator.network_ = network
    estimator.device_ = str(target_device)
    estimator.is_fitted = True
    return estimator
