"""Save and load fitted estimators without pickle.

A saved model is a directory with ``model.safetensors`` (the network's tensors) and
``config.json`` (estimator class and hyper-parameters, network name and config, class labels,
input metadata and a few fitted attributes). Loading parses JSON and reads raw tensors, then
rebuilds the network from the registry, so an untrusted model directory executes no code.

The estimator classes a directory may name are passed in (:func:`load_estimator`), so this
module needs no registry of them: :func:`sparsetsc.load` supplies the library's.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file, save_file

from .._files import follow_umask
from .._version import __version__
from ..nn import build_network, network_config
from ..train import resolve_device

__all__ = ["FORMAT_VERSION", "ModelFileError", "load_estimator", "save_estimator"]

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
        follow_umask(staging)  # mkdtemp made it private
        if target.exists():
            if not target.is_dir() or (not (target / _CONFIG).is_file() and any(target.iterdir())):
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


def _params_json(estimator: Any) -> dict[str, Any]:
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        if hasattr(value, "get_params"):  # a nested estimator (EnsembleClassifier's member)
            value = {"estimator": type(value).__name__, "params": _params_json(value)}
        params[key] = _json_value(value)
    return params


def _common_config(estimator: Any) -> dict[str, Any]:
    classes = estimator.classes_
    return {
        "format_version": FORMAT_VERSION,
        "sparsetsc_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _params_json(estimator),
        "classes": classes.tolist(),
        "classes_dtype": classes.dtype.str,
        "metadata": {k: _json_value(v) for k, v in estimator.metadata_.items()},
        "fitted": {k: _json_value(v) for k, v in estimator._fitted_state().items()},
    }


def _writer(estimator: Any) -> Any:
    """A function writing the fitted ``estimator`` into an existing empty folder.

    Everything is serialised first, so an unserialisable model fails before anything is
    written. An ensemble writes one sub-folder ``member_<i>`` per member.
    """
    estimator._check_is_fitted()
    config = _common_config(estimator)
    members = getattr(estimator, "estimators_", None)
    if members is not None:
        member_writers = [_writer(member) for member in members]
        config["members"] = [f"member_{i}" for i in range(len(members))]
        json_text = json.dumps(config, indent=2, allow_nan=False)

        def write_ensemble(folder: Path) -> None:
            for name, write_member in zip(config["members"], member_writers, strict=True):
                (folder / name).mkdir()
                write_member(folder / name)
            (folder / _CONFIG).write_text(json_text, encoding="utf-8")

        return write_ensemble

    name, net_config = network_config(estimator.network_)
    config["network"] = {"name": name, "config": net_config}
    tensors = {
        k: v.detach().to("cpu").contiguous() for k, v in estimator.network_.state_dict().items()
    }
    json_text = json.dumps(config, indent=2, allow_nan=False)

    def write(folder: Path) -> None:
        save_file(tensors, str(folder / _WEIGHTS), metadata={"format": "pt"})
        (folder / _CONFIG).write_text(json_text, encoding="utf-8")

    return write


def save_estimator(estimator: Any, path: str | os.PathLike) -> Path:
    """Save a fitted sparsetsc estimator (or ensemble) to the directory ``path``."""
    target = Path(path)
    _write_atomically(target, _writer(estimator))
    return target


class ModelFileError(ValueError):
    """A model directory that cannot be loaded: missing, damaged or inconsistent files.

    The message names the file and what is wrong with it.
    """


def load_estimator(
    path: str | os.PathLike, estimator_classes: Mapping[str, type], device: str = "cpu"
) -> Any:
    """Load an estimator saved with ``save``; it predicts exactly as the saved one did.

    Parameters
    ----------
    path : str or Path
        Directory written by ``estimator.save(path)``.
    estimator_classes : mapping of class name to class
        The classes the directory may name (nothing else is ever instantiated).
    device : str, default="cpu"
        Where to put the network(s) (``"auto"`` picks CUDA when available).

    Raises
    ------
    ModelFileError
        If the directory is not a saved model, a file is damaged (invalid JSON, truncated
        or foreign weights), or its parts disagree: hyper-parameters the estimator does not
        have, a network config that does not match the weights, a class list that does not
        match the classifier head, or fitted attributes the estimator does not declare.
    """
    return _load(Path(path), estimator_classes, resolve_device(device))


def _not_a_model(folder: Path) -> ModelFileError:
    return ModelFileError(
        f"{folder} is not a saved sparsetsc model (expected {_CONFIG} and {_WEIGHTS})"
    )


def _read_config(folder: Path) -> dict[str, Any]:
    config_file = folder / _CONFIG
    if not config_file.is_file():
        raise _not_a_model(folder)
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{config_file}: not a readable JSON model config ({err})") from err
    if not isinstance(config, dict):
        raise ModelFileError(f"{config_file}: expected a JSON object, got {type(config).__name__}")
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{config_file}: unsupported model format {config.get('format_version')!r} "
            f"(this sparsetsc reads format {FORMAT_VERSION})"
        )
    required = {"estimator": str, "params": dict, "classes": list, "classes_dtype": str}
    required |= {"metadata": dict, "fitted": dict}
    required |= {"members": list} if "members" in config else {"network": dict}
    for key, kind in required.items():
        if not isinstance(config.get(key), kind):
            found = "missing" if key not in config else f"a {type(config[key]).__name__}"
            raise ModelFileError(f"{config_file}: {key!r} must be a {kind.__name__}; it is {found}")
    return config


def _build_estimator(
    estimator_name: str, params: dict[str, Any], config_file: Path, classes: Mapping[str, type]
) -> Any:
    estimator_class = classes.get(estimator_name)
    if estimator_class is None:
        raise ModelFileError(f"{config_file}: unknown estimator {estimator_name!r}")
    defaults = estimator_class().get_params(deep=False)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ModelFileError(
            f"{config_file}: {estimator_name} has no hyper-parameter(s) {', '.join(unknown)}"
        )
    values = {}
    for key, value in params.items():
        if isinstance(value, dict) and set(value) == {"estimator", "params"}:
            value = _build_estimator(value["estimator"], value["params"], config_file, classes)
        elif isinstance(defaults.get(key), tuple) and isinstance(value, list):
            value = tuple(value)
        values[key] = value
    try:
        return estimator_class(**values)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{config_file}: invalid hyper-parameters ({err})") from err


def _load_network(folder: Path, spec: dict[str, Any], n_classes: int) -> Any:
    config_file, weights_file = folder / _CONFIG, folder / _WEIGHTS
    if not weights_file.is_file():
        raise _not_a_model(folder)
    if not isinstance(spec.get("name"), str) or not isinstance(spec.get("config"), dict):
        raise ModelFileError(f"{config_file}: 'network' needs a 'name' and a 'config' object")
    try:
        network = build_network(spec["name"], spec["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{config_file}: invalid network config ({err})") from err
    try:
        tensors = load_file(str(weights_file), device="cpu")
    except Exception as err:  # safetensors raises its own SafetensorError, or OSError
        raise ModelFileError(
            f"{weights_file}: not a readable safetensors file (truncated or damaged?): {err}"
        ) from err
    try:
        network.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[:3]
        raise ModelFileError(
            f"{weights_file}: the weights do not match the network described in {_CONFIG} "
            f"({' '.join(line.strip() for line in first)})"
        ) from err
    outputs = spec["config"].get("n_classes")
    if outputs is not None and outputs != n_classes:
        raise ModelFileError(
            f"{config_file}: {n_classes} class label(s) are listed but the network's head "
            f"has {outputs} outputs"
        )
    return network


def _load(folder: Path, classes: Mapping[str, type], target_device: Any) -> Any:
    config = _read_config(folder)
    config_file = folder / _CONFIG
    estimator = _build_estimator(config["estimator"], config["params"], config_file, classes)
    try:
        labels = np.asarray(config["classes"], dtype=np.dtype(config["classes_dtype"]))
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{config_file}: invalid class labels ({err})") from err
    if labels.ndim != 1 or len(labels) < 2 or len(np.unique(labels)) != len(labels):
        raise ModelFileError(
            f"{config_file}: 'classes' must list two or more distinct labels; got "
            f"{config['classes']!r}"
        )
    allowed = set(type(estimator)._fitted_json_attributes)
    foreign = sorted(set(config["fitted"]) - allowed)
    if foreign:
        raise ModelFileError(
            f"{config_file}: 'fitted' holds attribute(s) {type(estimator).__name__} does not "
            f"save: {', '.join(map(repr, foreign))} (it saves {', '.join(sorted(allowed))})"
        )
    if "members" in config:
        members = []
        for name in config["members"]:
            member_folder = folder / str(name)
            if not isinstance(name, str) or Path(name).name != name or not member_folder.is_dir():
                raise ModelFileError(f"{config_file}: missing ensemble member {name!r}")
            member = _load(member_folder, classes, target_device)
            if member.classes_.tolist() != labels.tolist():
                raise ModelFileError(
                    f"{member_folder / _CONFIG}: the member's classes "
                    f"{member.classes_.tolist()} differ from the ensemble's {labels.tolist()}"
                )
            members.append(member)
        estimator.estimators_ = members
    else:
        network = _load_network(folder, config["network"], len(labels))
        network.to(target_device).eval()
        estimator.network_ = network
        estimator.device_ = str(target_device)

    estimator.classes_ = labels
    estimator.n_classes_ = len(labels)
    estimator._class_dictionary = {label: i for i, label in enumerate(labels)}
    estimator.metadata_ = dict(config["metadata"])
    for name, value in config["fitted"].items():
        setattr(estimator, name, value)
    estimator.is_fitted = True
    return estimator
