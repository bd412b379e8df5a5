"""Result files of a sweep: the tsml-eval classification format plus our metadata.

One finished job is one file, ``<runs>/<Model>/Predictions/<Dataset>/testResample<seed>.csv``,
readable by tsml-eval and aeon's results tooling:

* line 1: ``dataset,model,TEST,resample,MILLISECONDS,sparsetsc``
* line 2: our metadata as one JSON object (the format's free-form parameter line): cost
  (params, non-zero params, MACs), fit/predict seconds, latency, epochs, hyper-parameters,
  class labels, library version, git revision
* line 3: ``accuracy,fit_ms,predict_ms,-1,-1,n_classes,,-1,-1``
* then per test case: ``true,predicted,,p_0,...,p_{C-1}`` with labels as indices into the
  metadata's ``classes``. Probabilities are kept at float32 precision, the precision the
  models compute them in: each is the shortest decimal that reads back to its float32
  value, which halves the files against float64's 17 digits and loses nothing a model
  produced (an ensemble's average is rounded to float32).

Files are written to a temporary name in the same folder and renamed into place, so a file
at the final name is always complete; a sweep killed mid-write leaves only a temporary file,
which the next run removes. A job that raised leaves ``testResample<seed>.failed.json``.

To bring results back from a machine that may be stopped at any moment (a leased GPU with
a time limit), :class:`ResultsTar` copies each finished result file into a size-capped
tar as it lands; every addition rewrites the tar atomically, so the tar too is always
complete.

A job asked to keep its fitted model saves it (``sparsetsc.load`` reads it) to
``<runs>/<Model>/Models/<Dataset>/resample<seed>`` before its result file is written, so a
result with ``"model_saved": true`` has its model.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._files import follow_umask
from .._files import write_atomic as _write_atomic

__all__ = [
    "CorruptResultError",
    "Result",
    "ResultsTar",
    "failure_path",
    "iter_results",
    "model_path",
    "read_failure",
    "read_result",
    "remove_stale_temporaries",
    "result_path",
    "write_atomic",
    "write_failure",
    "write_result",
]

_TEMP_PREFIX = ".tmp-"


class CorruptResultError(ValueError):
    """A result file that does not hold a complete, consistent result."""


@dataclass
class Result:
    """One finished job read back from its file."""

    dataset: str
    model: str
    resample: int
    accuracy: float
    y_true: np.ndarray  # class indices
    y_pred: np.ndarray  # class indices
    probabilities: np.ndarray  # (n_cases, n_classes)
    metadata: dict[str, Any]


def result_path(runs_dir: str | os.PathLike[str], model: str, dataset: str, resample: int) -> Path:
    """Where the result of (model display name, dataset, resample) lives."""
    return Path(runs_dir) / model / "Predictions" / dataset / f"testResample{resample}.csv"


def model_path(runs_dir: str | os.PathLike[str], model: str, dataset: str, resample: int) -> Path:
    """Where the fitted model of a job that keeps its model is saved."""
    return Path(runs_dir) / model / "Models" / dataset / f"resample{resample}"


def failure_path(runs_dir: str | os.PathLike[str], model: str, dataset: str, resample: int) -> Path:
    """Where the failure record of a job that raised lives."""
    return result_path(runs_dir, model, dataset, resample).with_suffix(".failed.json")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that ``path`` is either absent or complete (a
    temporary file a killed sweep leaves is removed by :func:`remove_stale_temporaries`)."""
    _write_atomic(path, text, prefix=_TEMP_PREFIX)


def remove_stale_temporaries(runs_dir: str | os.PathLike[str]) -> int:
    """Delete temporary files left by a killed sweep; return how many there were."""
    stale = list(Path(runs_dir).glob(f"*/Predictions/*/{_TEMP_PREFIX}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def _number(value: float) -> str:
    return repr(float(value))


def _probability(value: np.float32) -> str:
    # numpy's shortest round-trip digits for a float32; read_result parses through float64
    # and rounds to float32, so check that path gives the value back, else write it exactly
    text = str(value)
    return text if np.float32(float(text)) == value else repr(float(value))


def write_result(
    path: Path,
    *,
    dataset: str,
    model: str,
    resample: int,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    probabilities: np.ndarray,
    metadata: dict[str, Any],
) -> None:
    """Write one result file atomically (see the module docstring for the layout)."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    n_cases, n_classes = probabilities.shape
    if len(y_true) != n_cases or len(y_pred) != n_cases:
        raise ValueError("y_true, y_pred and probabilities must describe the same cases")
    accuracy = float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    fit_ms = round(1000 * metadata.get("fit_seconds", -0.001))
    predict_ms = round(1000 * metadata.get("predict_seconds", -0.001))
    metadata = {**metadata, "n_test": n_cases}
    lines = [
        f"{dataset},{model},TEST,{resample},MILLISECONDS,sparsetsc",
        json.dumps(metadata, sort_keys=True),
        f"{_number(accuracy)},{fit_ms},{predict_ms},-1,-1,{n_classes},,-1,-1",
    ]
    for true, predicted, row in zip(y_true, y_pred, probabilities, strict=True):
        lines.append(f"{int(true)},{int(predicted)},," + ",".join(_probability(p) for p in row))
    write_atomic(path, "\n".join(lines) + "\n")


def read_result(path: str | os.PathLike[str]) -> Result:
    """Read and check one result file.

    Raises
    ------
    CorruptResultError
        If the file is truncated, malformed, or its numbers disagree with each other
        (row count, probability width, accuracy, probabilities summing to one).
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as err:
        raise CorruptResultError(f"{path}: not a text file ({err})") from None
    if len(lines) < 4:
        raise CorruptResultError(
            f"{path}: {len(lines)} lines; a result has 3 header lines and cases"
        )
    first = lines[0].split(",")
    try:
        metadata = json.loads(lines[1])
        accuracy = float(lines[2].split(",")[0])
        n_classes = int(lines[2].split(",")[5])
        resample = int(first[3])
    except (ValueError, IndexError) as err:
        raise CorruptResultError(f"{path}: malformed header ({err})") from None
    if len(first) < 5 or first[2] != "TEST" or not isinstance(metadata, dict):
        raise CorruptResultError(f"{path}: malformed first line {lines[0]!r}")
    rows = lines[3:]
    if len(rows) != metadata.get("n_test"):
        raise CorruptResultError(
            f"{path}: {len(rows)} cases, but the header says {metadata.get('n_test')}"
        )
    y_true, y_pred, probabilities = [], [], []
    for number, row in enumerate(rows, start=4):
        fields = row.split(",")
        if len(fields) != 3 + n_classes or fields[2] != "":
            raise CorruptResultError(
                f"{path}: line {number} has {len(fields)} fields, expected {3 + n_classes}"
            )
        try:
            y_true.append(int(fields[0]))
            y_pred.append(int(fields[1]))
            probabilities.append([float(p) for p in fields[3:]])
        except ValueError as err:
            raise CorruptResultError(f"{path}: line {number}: {err}") from None
    y_true_array, y_pred_array = np.array(y_true), np.array(y_pred)
    # float32 values (see the module docstring), returned as float64 for arithmetic
    probability_array = (
        np.array(probabilities, dtype=float)
        .astype(np.float32)
        .astype(float)
        .reshape(len(rows), n_classes)
    )
    if not np.allclose(probability_array.sum(axis=1), 1.0, atol=1e-4):
        raise CorruptResultError(f"{path}: probabilities do not sum to one")
    if abs(float(np.mean(y_true_array == y_pred_array)) - accuracy) > 1e-9:
        raise CorruptResultError(f"{path}: the accuracy in the header disagrees with the cases")
    return Result(
        first[0],
        first[1],
        resample,
        accuracy,
        y_true_array,
        y_pred_array,
        probability_array,
        metadata,
    )


def iter_results(runs_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Paths of every result file under ``runs_dir`` (finished jobs, not failures)."""
    yield from sorted(Path(runs_dir).glob("*/Predictions/*/testResample*.csv"))


def write_failure(path: Path, record: dict[str, Any]) -> None:
    """Record a failed job (error type, message, traceback) atomically."""
    write_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


def read_failure(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The failure record of a job."""
    return json.loads(Path(path).read_text())


class ResultsTar:
    """Finished result files gathered into tar files in ``folder``, one addition at a time.

    Files go into ``<stem>.tar`` until the next would make it larger than ``limit`` bytes,
    then into ``<stem>-2.tar``, and so on up to ``max_parts`` tars (a cap on the number of
    files a machine may send back). Each addition copies the current tar to a temporary name
    beside it, appends, and renames it into place: a process killed at any moment leaves
    each tar as it was before or after one whole addition, never a torn archive.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        stem: str = "results",
        limit: int = 16 * 2**20,
        max_parts: int = 4,
    ) -> None:
        if limit < 10 * 2**10 or max_parts < 1:
            raise ValueError("a results tar needs limit >= 10 KiB and max_parts >= 1")
        self.folder = Path(folder)
        self.stem = stem
        self.limit = limit
        self.max_parts = max_parts
        self.added: list[str] = []  # member names, in the order they were added

    def part(self, number: int) -> Path:
        """The path of tar number ``number`` (1 is ``<stem>.tar``)."""
        suffix = "" if number == 1 else f"-{number}"
        return self.folder / f"{self.stem}{suffix}.tar"

    def add(self, path: str | os.PathLike[str], arcname: str) -> Path:
        """Add the file ``path`` as ``arcname``; return the tar it went into.

        Raises ``ValueError`` when it fits in no part (the file alone is over ``limit``, or
        every part is full): nothing is written then.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        for number in range(1, self.max_parts + 1):
            tar = self.part(number)
            grown = self._appended(tar, Path(path), arcname)
            try:
                if grown.stat().st_size <= self.limit:
                    os.replace(grown, tar)
                    self.added.append(arcname)
                    return tar
            finally:
                grown.unlink(missing_ok=True)  # replaced, too big, or interrupted
            if not tar.exists():  # an empty part could not take it: no part can
                break
        raise ValueError(
            f"{arcname} ({Path(path).stat().st_size} bytes) fits in no results tar of at most "
            f"{self.limit} bytes ({self.max_parts} parts) in {self.folder}"
        )

    def _appended(self, tar: Path, path: Path, arcname: str) -> Path:
        """A temporary tar holding ``tar``'s members (if any) and ``path``, synced.

        Written afresh rather than appended in place: a new archive's size is exactly its
        members and the end padding, which is what ``limit`` is checked against.
        """
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=_TEMP_PREFIX + tar.name)
        try:
            with os.fdopen(handle, "wb") as file:
                with tarfile.open(fileobj=file, mode="w") as archive:
                    if tar.exists():
                        with tarfile.open(tar) as previous:
                            for member in previous.getmembers():
                                archive.addfile(member, previous.extractfile(member))
                    archive.add(path, arcname=arcname, recursive=False)
                file.flush()
                os.fsync(file.fileno())
            follow_umask(temporary)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return Path(temporary)
