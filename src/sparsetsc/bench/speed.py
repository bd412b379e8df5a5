"""Training speed on a device: epoch times, ensembles batched or not, workers sharing a GPU.

Three measurements, each through the estimators as a sweep builds them
(:func:`~sparsetsc.bench.make_estimator`: published recipe, batch-size rule and schedule):

* :func:`epoch_time`: the median epoch time of one model after the first epoch (which pays
  for one-time set-up: CUDA context, cuDNN's algorithm search, numba compilation);
* :func:`ensemble_time`: the wall time of fitting an ensemble with its members trained one
  after the other or together (``batched=True``, one vectorised model);
* :func:`concurrent_throughput`: epochs per second of ``workers`` processes training at
  once (on one GPU, small models leave it mostly idle, and several processes may fill it;
  whether they do is what this measures).

Every time on CUDA is taken after ``torch.cuda.synchronize()``; the trainer reads each
epoch's loss on the host, so its per-epoch times include the epoch's GPU work.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..data import load_train_test
from ..train import DEFAULT_PRECISION, resolve_device
from .models import make_estimator

__all__ = [
    "EpochTime",
    "concurrent_throughput",
    "ensemble_time",
    "epoch_time",
    "load_speed_data",
]


@dataclass(frozen=True)
class EpochTime:
    """One model's median epoch time on one dataset and device."""

    model: str
    dataset: str
    device: str
    precision: str
    epochs: int
    n_cases: int
    batch_size: int
    steps_per_epoch: int
    median_seconds: float  # over the epochs after the first
    first_seconds: float  # the first epoch, set-up included

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_speed_data(
    dataset: str, data_root: str | None = None, max_cases: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The training split of ``dataset``, its first ``max_cases`` cases (all without it).

    Capping the cases keeps a timing on a large set short while its batches stay those of
    the published recipe (LITE and Inception: 64); it is the same cut on every device.
    """
    X, y, _, _ = load_train_test(dataset, root=data_root, download=False)
    if max_cases is not None:
        X, y = X[:max_cases], y[:max_cases]
    return X, y


def _synchronize(device: str) -> None:
    import torch

    if resolve_device(device).type == "cuda":
        torch.cuda.synchronize()


def epoch_time(
    model: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    device: str = "cpu",
    precision: str = DEFAULT_PRECISION,
    epochs: int = 5,
    dataset: str = "",
    seed: int = 0,
) -> EpochTime:
    """Fit ``model`` for ``epochs`` (at least 2) and return its median epoch time after the
    first. ``dataset`` only labels the result."""
    if epochs < 2:
        raise ValueError(f"epoch_time needs at least 2 epochs (the first is set-up); got {epochs}")
    estimator = make_estimator(model, seed, epochs, device, precision=precision)
    estimator.fit(X, y)
    _synchronize(device)
    seconds = [record["seconds"] for record in estimator.history_]
    return EpochTime(
        model=model,
        dataset=dataset,
        device=estimator.device_,
        precision=estimator.precision_,
        epochs=len(seconds),
        n_cases=len(X),
        batch_size=estimator.batch_size_,
        steps_per_epoch=-(-len(X) // estimator.batch_size_),
        median_seconds=statistics.median(seconds[1:]),
        first_seconds=seconds[0],
    )


def ensemble_time(
    model: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    batched: bool,
    device: str = "cpu",
    precision: str = DEFAULT_PRECISION,
    epochs: int = 5,
    n_members: int = 5,
    seed: int = 0,
) -> float:
    """Wall seconds of fitting the ensemble ``model`` (e.g. ``inceptiontime``) with its
    members trained together (``batched=True``) or one after the other.

    The same seed gives the same members either way (same initial weights and batches), so
    the two times compare the same work. Run a short fit first to take one-time set-up out
    of both.
    """
    estimator = make_estimator(model, seed, epochs, device, precision=precision)
    estimator.set_params(batched=batched, n_members=n_members)
    _synchronize(device)
    started = time.perf_counter()
    estimator.fit(X, y)
    _synchronize(device)
    return time.perf_counter() - started


# The barrier every worker of a throughput measurement waits at, set in each worker process
# by the pool's initializer (a barrier cannot travel as a task argument).
_BARRIER: Any = None


def _set_barrier(barrier: Any, threads: int) -> None:
    import torch

    global _BARRIER
    _BARRIER = barrier
    torch.set_num_threads(threads)


def _timed_fit(
    model: str,
    dataset: str,
    data_root: str | None,
    max_cases: int | None,
    device: str,
    precision: str,
    epochs: int,
    seed: int,
) -> tuple[float, float]:
    """In a worker: warm up, wait for every worker, fit; the wall-clock start and end."""
    X, y = load_speed_data(dataset, data_root, max_cases)
    make_estimator(model, seed, 2, device, precision=precision).fit(X, y)  # set-up
    _synchronize(device)
    _BARRIER.wait()
    started = time.time()
    make_estimator(model, seed, epochs, device, precision=precision).fit(X, y)
    _synchronize(device)
    return started, time.time()


def concurrent_throughput(
    model: str,
    dataset: str,
    workers: int,
    *,
    data_root: str | None = None,
    max_cases: int | None = None,
    device: str = "cpu",
    precision: str = DEFAULT_PRECISION,
    epochs: int = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Epochs per second of ``workers`` processes each fitting ``model`` for ``epochs`` at
    the same time (after a warm-up fit each, all released together by a barrier).

    Returns the workers, epochs, the wall seconds from the first start to the last end and
    the total ``epochs_per_second``; compare it across worker counts to see whether several
    sweep processes on one device pay. The processes are spawned (a CUDA context cannot be
    forked) and split the CPU's threads between them, as a sweep's pool does.
    """
    if workers < 1 or epochs < 1:
        raise ValueError("concurrent_throughput needs workers >= 1 and epochs >= 1")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_set_barrier, initargs=(barrier, threads)
    ) as pool:
        futures = [
            pool.submit(
                _timed_fit, model, dataset, data_root, max_cases, device, precision, epochs, seed
            )
            for _ in range(workers)
        ]
        spans = [future.result() for future in futures]
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return {
        "model": model,
        "dataset": dataset,
        "device": device,
        "workers": workers,
        "epochs": epochs,
        "wall_seconds": wall,
        "epochs_per_second": workers * epochs / wall,
    }
