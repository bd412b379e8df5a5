"""ONNX export of fitted sparsetsc estimators, verified against PyTorch.

One exported file holds the whole prediction: z-normalisation (when the estimator uses it),
every network (all members of an ensemble, averaged), and the softmax. Its input
``series`` is float32 ``(batch, n_channels, n_timepoints)`` with a free batch size and the
channel and length the model was fitted on; its output ``probabilities`` is
``(batch, n_classes)``. Class labels and input metadata are stored as metadata properties,
so :class:`OnnxClassifier` needs only onnxruntime and NumPy to predict labels.

DSN networks are exported with masks baked in and each kernel group trimmed to the taps it
uses (:func:`sparsetsc.sparse.inference.trim_regions`), as a few short plain convolutions;
DSP networks are exported at their pruned widths (they are ordinary smaller networks).

Needs the ``export`` extra: ``pip install "sparsetsc[export]"`` (onnx, onnxruntime, onnxscript).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._files import follow_umask
from .._version import __version__
from ..data.validation import check_X
from ..sparse.inference import trim_regions

__all__ = ["ExportError", "OnnxClassifier", "export_onnx", "inference_graph"]

INPUT_NAME = "series"
OUTPUT_NAME = "probabilities"
#: Largest |ONNX - PyTorch| probability difference an export may show and still pass.
TOLERANCE = 1e-4
_ZNORM_EPS = 1e-8  # as sparsetsc.data.znormalize: a constant series becomes zeros


class ExportError(RuntimeError):
    """An export that failed or did not reproduce the PyTorch model (nothing was written)."""


def _require_onnx() -> tuple[Any, Any]:
    try:
        import onnx
        import onnxruntime
        import onnxscript  # noqa: F401  (torch's ONNX exporter needs it)
    except ImportError as err:
        raise ImportError(
            f"ONNX export needs onnx, onnxruntime and onnxscript ({err.name} is missing): "
            'pip install "sparsetsc[export]"'
        ) from err
    return onnx, onnxruntime


class _InferenceGraph(nn.Module):
    """Raw series -> [z-normalisation] -> each network -> softmax -> mean over networks."""

    def __init__(self, networks: list[nn.Module], normalize: bool) -> None:
        super().__init__()
        self.networks = nn.ModuleList(networks)
        self.normalize = normalize

    def forward(self, series: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            # float64 statistics, as the estimators compute them
            wide = series.double()
            mean = wide.mean(dim=-1, keepdim=True)
            std = wide.std(dim=-1, keepdim=True, unbiased=False)
            scaled = (wide - mean) / torch.clamp(std, min=_ZNORM_EPS)
            series = torch.where(std >= _ZNORM_EPS, scaled, torch.zeros_like(scaled)).float()
        probabilities = [torch.softmax(network(series), dim=1) for network in self.networks]
        if len(probabilities) == 1:
            return probabilities[0]
        return torch.stack(probabilities).mean(dim=0)


def _members(estimator: Any) -> list[Any]:
    return list(getattr(estimator, "estimators_", None) or [estimator])


def inference_graph(estimator: Any) -> nn.Module:
    """The whole prediction of a fitted estimator as one CPU module (what gets exported).

    ``module(series)`` maps raw float32 series ``(batch, n_channels, n_timepoints)`` to class
    probabilities, equal to ``estimator.predict_proba`` up to float rounding. The networks
    are copies (eval mode, no gradients; DSN kernel groups trimmed to their used taps), so
    the estimator is left untouched.
    """
    estimator._check_is_fitted()
    members = _members(estimator)
    normalize = {bool(member.normalize) for member in members}
    if len(normalize) != 1:
        raise ExportError("ensemble members disagree on z-normalisation; cannot export")
    networks = []
    for member in members:
        network = copy.deepcopy(member.network_).to("cpu").eval().requires_grad_(False)
        trim_regions(network)
        networks.append(network)
    return _InferenceGraph(networks, normalize.pop()).eval()


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    # torch's exporter logs optional-dependency notices and deprecation warnings that say
    # nothing about this export
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _metadata(estimator: Any) -> dict[str, str]:
    classes = estimator.classes_
    return {
        "sparsetsc_version": __version__,
        "estimator": type(estimator).__name__,
        "classes": json.dumps(classes.tolist()),
        "classes_dtype": classes.dtype.str,
        "n_channels": str(int(estimator.metadata_["n_channels"])),
        "n_timepoints": str(int(estimator.metadata_["n_timepoints"])),
    }


def export_onnx(
    estimator: Any,
    path: str | os.PathLike,
    X: np.ndarray | None = None,
    opset: int | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Export a fitted estimator (or ensemble) to one ONNX file and verify it.

    The file is written to a temporary name, run in onnxruntime (CPU) on ``X`` and compared
    with ``estimator.predict_proba(X)``; only an export within :data:`TOLERANCE` replaces
    ``path``, so a failed export writes nothing.

    Parameters
    ----------
    estimator : fitted sparsetsc estimator
    path : str or Path
        The ``.onnx`` file to write.
    X : np.ndarray, optional
        Real series to verify on, ``(n_cases, n_channels, n_timepoints)``. Without it the
        check runs on 32 random series (reported as ``verified_on="random"``).
    opset : int, optional
        ONNX opset (default: the exporter's).
    random_state : int, default=0
        Seed of the random verification series.

    Returns
    -------
    dict
        ``path``, ``bytes``, ``max_abs_diff`` (probabilities), ``predictions_identical``,
        ``n_cases``, ``verified_on`` ("data" or "random"), ``opset`` and ``export_seconds``.
    """
    onnx, onnxruntime = _require_onnx()
    estimator._check_is_fitted()
    n_channels = int(estimator.metadata_["n_channels"])
    n_timepoints = int(estimator.metadata_["n_timepoints"])
    if X is None:
        X = np.random.default_rng(random_state).standard_normal((32, n_channels, n_timepoints))
        verified_on = "random"
    else:
        X = check_X(X, min_timepoints=1, model_name=type(estimator).__name__)
        verified_on = "data"
    X = np.asarray(X, dtype=np.float32)
    if X.shape[1:] != (n_channels, n_timepoints):
        raise ValueError(
            f"X has {X.shape[1]} channels and {X.shape[2]} time points; the model was fitted "
            f"on {n_channels} and {n_timepoints}"
        )
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory; give the .onnx file to write")
    target.parent.mkdir(parents=True, exist_ok=True)

    graph = inference_graph(estimator)
    example = torch.from_numpy(X[: min(len(X), 4)].copy())
    if len(example) < 2:  # a batch of one would be specialised into the graph
        example = torch.cat([example, example])
    started = time.perf_counter()
    fd, staging = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                graph,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"series": {0: torch.export.Dim("batch", min=1)}},
                opset_version=opset,
                external_data=False,
                verbose=False,
            )
        model = program.model_proto
        for key, value in _metadata(estimator).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save_model(model, staging)
        export_seconds = time.perf_counter() - started
        session = onnxruntime.InferenceSession(staging, providers=["CPUExecutionProvider"])
        exported = session.run([OUTPUT_NAME], {INPUT_NAME: X})[0]
        expected = estimator.predict_proba(X)
        max_abs_diff = float(np.max(np.abs(exported.astype(np.float64) - expected)))
        identical = bool(np.array_equal(exported.argmax(axis=1), expected.argmax(axis=1)))
        if not max_abs_diff <= TOLERANCE:
            raise ExportError(
                f"the ONNX model differs from PyTorch by {max_abs_diff:.3g} in probability "
                f"(tolerance {TOLERANCE}); nothing written"
            )
        follow_umask(staging)  # mkstemp made it private
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.remove(staging)
    opset_used = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return {
        "path": str(target),
        "bytes": target.stat().st_size,
        "max_abs_diff": max_abs_diff,
        "predictions_identical": identical,
        "n_cases": int(len(X)),
        "verified_on": verified_on,
        "opset": opset_used,
        "export_seconds": round(export_seconds, 2),
    }


class OnnxClassifier:
    """Run an exported sparsetsc model with onnxruntime only (no PyTorch needed).

    Parameters
    ----------
    path : str or Path
        A file written by :func:`export_onnx`.
    threads : int, optional
        onnxruntime intra-op threads (default: onnxruntime's choice).

    Attributes
    ----------
    classes_ : np.ndarray
        The class labels, in the order of the probability columns.
    n_channels, n_timepoints : int
        The input shape the model expects per series.
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        _, onnxruntime = _require_onnx()
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = int(threads)
        self.path = Path(path)
        self.session = onnxruntime.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        metadata = self.session.get_modelmeta().custom_metadata_map
        if "classes" not in metadata:
            raise ValueError(f"{self.path} was not written by sparsetsc's export_onnx")
        self.classes_ = np.asarray(
            json.loads(metadata["classes"]), dtype=np.dtype(metadata["classes_dtype"])
        )
        self.n_channels = int(metadata["n_channels"])
        self.n_timepoints = int(metadata["n_timepoints"])
        self.estimator = metadata.get("estimator", "")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, ``(n_cases, n_classes)``, for raw series X."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 2:
            X = X[:, np.newaxis, :]
        if X.ndim != 3 or X.shape[1:] != (self.n_channels, self.n_timepoints):
            raise ValueError(
                f"X must have shape (n_cases, {self.n_channels}, {self.n_timepoints}); "
                f"got {X.shape}"
            )
        if not np.isfinite(X).all():
            raise ValueError("X holds NaN or infinite values")
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(X)})[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels (the first most probable class on ties)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
