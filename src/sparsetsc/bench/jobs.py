"""One job of a sweep: fit a model on one dataset resample, predict its test split, write.

Resample 0 is the archive's official train/test split; resample k > 0 is aeon's stratified
resample of train + test with seed k (the tsml-eval convention, so results line up with the
bake-off's 30 resamples).

The model's ``random_state`` (its initial weights, batch order, DST regrowth) is the job's
*seed*, chosen by the sweep's seed policy (:func:`job_seed`): by default a stable hash of
(dataset, resample), so that the jobs of one resample do not all start from the same draw
(with ``random_state = resample``, every dataset of a shape trains from identical initial
weights, and a Wilcoxon test over datasets counts one draw many times); ``"resample"`` is
the plain tsml-eval convention, ``random_state = resample``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
import traceback
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import _names
from .._version import __version__
from ..cost import estimator_cost
from ..data import check_labels_seen, load_train_test
from ..estimators import load as load_model
from ..train import DEFAULT_PRECISION
from .models import DISPLAY_NAMES, make_estimator
from .store import failure_path, model_path, result_path, write_failure, write_result

__all__ = [
    "DEFAULT_SEED_POLICY",
    "SEED_POLICIES",
    "Job",
    "JobOutcome",
    "device_record",
    "fit_and_predict",
    "job_seed",
    "load_resample",
    "run_job",
]

#: How a job's model seed is chosen: from (dataset, resample), or the resample id alone.
SEED_POLICIES = _names.SEED_POLICIES
DEFAULT_SEED_POLICY = _names.DEFAULT_SEED_POLICY

#: Repeats of the timed prediction at batch 1 and at batch 64 (the median is kept).
LATENCY_REPEATS = (7, 3)

#: Fitted attributes copied into a result's metadata (``"fitted"``) when a model has them:
#: what DSN's masks and DSP's pruning made of the model, small enough for every result.
FITTED_SUMMARY = (
    "selected_epoch_",
    "real_density_",
    "nonzero_per_group_",
    "stage_widths_",
    "dsp_widths_",
    "stage_group_widths_",
    "dsp_group_widths_",
    "kept_widths_",
    "uniform_width_",
    "compression_",
)


def job_seed(
    dataset: str, resample: int, policy: str = DEFAULT_SEED_POLICY, member: int = 0
) -> int:
    """The model seed (``random_state``) of a sweep job.

    ``"dataset"``: the first 31 bits of SHA-256 of ``"<dataset>/<resample>"``, the same on
    every machine and Python (unlike ``hash``), different across datasets and resamples.
    ``"resample"``: the resample id (tsml-eval's ``random_state = resample``).
    ``member`` k > 0 (the k+1-th member of an ensemble run as separate jobs): the first 31
    bits of SHA-256 of ``"<seed of member 0>/member <k>"``; member 0 has the plain seed, so
    it is the single-model job of the same model.
    """
    if policy == "resample":
        seed = int(resample)
    elif policy == "dataset":
        digest = hashlib.sha256(f"{dataset}/{int(resample)}".encode()).digest()
        seed = int.from_bytes(digest[:4], "big") >> 1
    else:
        raise ValueError(f"seed policy must be one of {SEED_POLICIES}; got {policy!r}")
    if member < 0:
        raise ValueError(f"member must be >= 0; got {member}")
    if member == 0:
        return seed
    digest = hashlib.sha256(f"{seed}/member {int(member)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


@dataclass(frozen=True)
class Job:
    """A (model, dataset, resample) with the sweep's epoch budget and overrides.

    ``label`` names a variant of a model (a study's ``DSN (sparsity 50 %)``); by default the
    model's display name. It is the results folder, so variants never overwrite each other
    and a variant without overrides shares its results with plain sweeps of the model.
    ``save_model`` also keeps the fitted model (for analyses of the trained weights).
    ``seed_policy`` chooses the model seed, :attr:`seed` (see :func:`job_seed`).
    ``uniform_of`` names the variant (its label) whose fitted DSP model, kept in the same
    runs directory for the same dataset and resample, gives this job's estimator: its
    uniform-width control (``DSPClassifier.uniform_control``: the backbone at one width
    with as many trainable parameters as the pruned network), trained from scratch without
    running the sparsity phase again. ``member`` > 0 makes the job the ``member``-th extra
    member of an ensemble run as separate jobs (see :func:`job_seed`).
    """

    model: str
    dataset: str
    resample: int
    epochs: int | None = None
    params: tuple[tuple[str, Any], ...] = ()
    device: str = "cpu"
    label: str | None = None
    save_model: bool = False
    precision: str = DEFAULT_PRECISION
    seed_policy: str = DEFAULT_SEED_POLICY
    uniform_of: str | None = None
    member: int = 0

    @property
    def seed(self) -> int:
        """The model's ``random_state`` for this job."""
        return job_seed(self.dataset, self.resample, self.seed_policy, self.member)

    @property
    def name(self) -> str:
        """The variant's label or the model's display name: the results folder."""
        return self.label or DISPLAY_NAMES.get(self.model, self.model)

    def result_path(self, runs_dir: str | os.PathLike[str]) -> Path:
        return result_path(runs_dir, self.name, self.dataset, self.resample)

    def failure_path(self, runs_dir: str | os.PathLike[str]) -> Path:
        return failure_path(runs_dir, self.name, self.dataset, self.resample)

    def model_path(self, runs_dir: str | os.PathLike[str]) -> Path:
        return model_path(runs_dir, self.name, self.dataset, self.resample)

    def __str__(self) -> str:
        return f"{self.name}/{self.dataset}/resample {self.resample}"


@dataclass
class JobOutcome:
    """What happened to a job: ``done`` with its accuracy, or ``failed`` with the error."""

    job: Job
    status: str
    seconds: float
    accuracy: float | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def git_revision() -> str | None:
    """The git commit of the installed sources when they are a checkout, else None."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


def load_resample(
    dataset: str, resample: int, data_root: str | None, download: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train/test data of one resample (0 = the official split)."""
    X_train, y_train, X_test, y_test = load_train_test(dataset, root=data_root, download=download)
    if resample == 0:
        return X_train, y_train, X_test, y_test
    from aeon.benchmarking.resampling import stratified_resample_data

    return stratified_resample_data(X_train, y_train, X_test, y_test, random_state=resample)


def _median_seconds(predict, X: np.ndarray, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _latency_ms(estimator: Any, X_test: np.ndarray) -> dict[str, float]:
    # Through the estimator's own predict_proba, so preprocessing counts and peers compare fairly.
    batch64 = X_test[np.arange(64) % len(X_test)]
    one = _median_seconds(estimator.predict_proba, X_test[:1], LATENCY_REPEATS[0])
    many = _median_seconds(estimator.predict_proba, batch64, LATENCY_REPEATS[1])
    return {"latency_b1_ms": round(1000 * one, 3), "latency_b64_ms": round(1000 * many, 3)}


def _cost(estimator: Any) -> dict[str, int | None]:
    try:
        return estimator_cost(estimator).totals()
    except (TypeError, AttributeError, ValueError):
        # Peers (ROCKET) have no network to count.
        return dict.fromkeys(("params", "params_nonzero", "params_trainable", "macs", "macs_dense"))


def _epochs_run(estimator: Any) -> int | None:
    members = getattr(estimator, "estimators_", None)
    member = members[0] if members else estimator
    history = getattr(member, "history_", None)
    return len(history) if history is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _fitted_summary(estimator: Any) -> dict[str, Any]:
    """:data:`FITTED_SUMMARY` of the estimator; an ensemble adds each member's under
    ``"members"`` (its own holds what it summarises, e.g. DSP ensembles' compression)."""
    members = getattr(estimator, "estimators_", None)

    def summary(model: Any) -> dict[str, Any]:
        values = {name: getattr(model, name) for name in FITTED_SUMMARY if hasattr(model, name)}
        return json.loads(json.dumps(values, default=_plain))

    if members:
        return {**summary(estimator), "members": [summary(m) for m in members]}
    return summary(estimator)


def fit_and_predict(
    estimator: Any, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Fit ``estimator``, then predict ``X_test``: ``(probabilities, fit s, predict s)``."""
    started = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    probabilities = estimator.predict_proba(X_test)
    return probabilities, fit_seconds, time.perf_counter() - started


def _fit_and_write(job: Job, runs_dir: str, data_root: str | None, download: bool) -> float:
    X_train, y_train, X_test, y_test = load_resample(job.dataset, job.resample, data_root, download)
    check_labels_seen(y_test, np.unique(y_train))
    if job.uniform_of:
        estimator = _uniform_control_of(job, runs_dir)
    else:
        estimator = make_estimator(
            job.model, job.seed, job.epochs, job.device, dict(job.params), job.precision
        )
    probabilities, fit_seconds, predict_seconds = fit_and_predict(
        estimator, X_train, y_train, X_test
    )
    classes = list(estimator.classes_)
    class_index = {label: index for index, label in enumerate(classes)}
    y_true = np.array([class_index[label] for label in y_test])
    y_pred = np.argmax(probabilities, axis=1)
    member_accuracies = _member_accuracies(estimator, X_test, y_true)
    # Saved before the result: a result file that says so always has its model.
    model_saved = job.save_model and hasattr(estimator, "save")
    if model_saved:
        estimator.save(job.model_path(runs_dir))
    metadata = {
        "model_key": job.model,
        "estimator": type(estimator).__name__,
        "requested_epochs": job.epochs,
        "epochs": _epochs_run(estimator),
        "params_override": dict(job.params),
        "seed": job.seed,
        "seed_policy": job.seed_policy,
        "member": job.member,
        "uniform_of": job.uniform_of,
        "uniform_width": estimator.n_filters if job.uniform_of else None,
        **_cost(estimator),
        "fit_seconds": round(fit_seconds, 3),
        "predict_seconds": round(predict_seconds, 4),
        **_latency_ms(estimator, X_test),
        "fitted": _fitted_summary(estimator),
        "member_accuracies": member_accuracies,
        "model_saved": model_saved,
        "classes": [str(label) for label in classes],
        "n_train": int(len(y_train)),
        "n_channels": int(X_train.shape[1]),
        "n_timepoints": int(X_train.shape[2]),
        "device": job.device,
        **device_record(_resolved_device(estimator)),
        "precision": job.precision,
        "precision_resolved": _resolved_precision(estimator),
        "torch_threads": _torch_threads(),
        "sparsetsc_version": __version__,
        "git_revision": git_revision(),
        "host": platform.node(),
        "cpu": cpu_model(),
    }
    write_result(
        job.result_path(runs_dir),
        dataset=job.dataset,
        model=job.name,
        resample=job.resample,
        y_true=y_true,
        y_pred=y_pred,
        probabilities=probabilities,
        metadata=metadata,
    )
    return float(np.mean(y_true == y_pred))


def _member_accuracies(estimator: Any, X_test: np.ndarray, y_true: np.ndarray) -> list | None:
    # An ensemble's members, each alone on the test split: the report sets the ensemble's
    # accuracy beside their mean and spread.
    members = getattr(estimator, "estimators_", None)
    if not members:
        return None
    return [
        float(np.mean(np.argmax(member.predict_proba(X_test), axis=1) == y_true))
        for member in members
    ]


def _uniform_control_of(job: Job, runs_dir: str) -> Any:
    """The unfitted uniform-width control of the DSP model that variant ``job.uniform_of``
    fitted on the same dataset and resample, with this job's seed, epochs and settings."""
    source = model_path(runs_dir, job.uniform_of, job.dataset, job.resample)
    if not (source / "config.json").is_file():
        raise FileNotFoundError(
            f"{job}: its uniform-width control needs the fitted model of {job.uniform_of} on "
            f"{job.dataset}, resample {job.resample} ({source}); that job failed or has not run"
        )
    fitted = load_model(source)
    if not hasattr(fitted, "uniform_control"):
        raise ValueError(
            f"{job}: {job.uniform_of} is a {type(fitted).__name__}; a uniform-width control "
            "is taken from a DSP-LITE or DSP-Inception model"
        )
    control = fitted.uniform_control()
    settings = {
        "random_state": job.seed,
        "device": job.device,
        "precision": job.precision,
        "verbose": False,
        **dict(job.params),
    }
    if job.epochs is not None:
        settings["n_epochs"] = job.epochs
    return control.set_params(**settings)


def _resolved_device(estimator: Any) -> str:
    members = getattr(estimator, "estimators_", None)
    # A peer (MiniROCKET) has no device_: it computes on the CPU.
    return getattr(members[0] if members else estimator, "device_", "cpu")


def device_record(device: str) -> dict[str, Any]:
    """What a result records of the device its model trained on: the resolved device
    (``cuda:0`` where the job asked for ``cuda`` or ``auto``), its name (the GPU's, e.g.
    ``NVIDIA H200``, or the processor's), and the torch build with its CUDA version, since a
    folder's results may come from several machines and timings compare only within one."""
    import torch

    resolved = torch.device(device)
    on_cuda = resolved.type == "cuda"
    return {
        "device_resolved": str(resolved),
        "device_name": torch.cuda.get_device_name(resolved) if on_cuda else cpu_model(),
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda if on_cuda else None,
    }


def _resolved_precision(estimator: Any) -> str | None:
    members = getattr(estimator, "estimators_", None)
    return getattr(members[0] if members else estimator, "precision_", None)  # None: a peer


@cache
def cpu_model() -> str:
    """The processor's model name (Linux ``/proc/cpuinfo``, else ``platform``): a folder's
    results may come from several machines, and timings and float rounding differ by CPU."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def run_job(
    job: Job,
    runs_dir: str,
    data_root: str | None = None,
    download: bool = False,
    torch_threads: int | None = None,
) -> JobOutcome:
    """Run one job and write its result file, or its failure record if it raises.

    Never raises for an error inside the job (it is recorded instead), so one bad dataset
    does not stop a sweep; ``KeyboardInterrupt`` and other non-``Exception`` exits propagate.
    """
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    started = time.perf_counter()
    failure = job.failure_path(runs_dir)
    try:
        accuracy = _fit_and_write(job, runs_dir, data_root, download)
    except Exception as err:  # noqa: BLE001 - recorded, reported, never lost
        seconds = time.perf_counter() - started
        write_failure(
            failure,
            {
                "job": {**asdict(job), "seed": job.seed},
                "error_type": type(err).__name__,
                "error": str(err),
                "traceback": traceback.format_exc(),
                "seconds": round(seconds, 3),
                "sparsetsc_version": __version__,
                "git_revision": git_revision(),
            },
        )
        return JobOutcome(job, "failed", seconds, error=f"{type(err).__name__}: {err}")
    failure.unlink(missing_ok=True)  # a retried job that now succeeded
    return JobOutcome(job, "done", time.perf_counter() - started, accuracy=accuracy)
