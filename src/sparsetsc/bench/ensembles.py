"""Ensembles run as separate jobs: each member is a sweep job, the ensemble their average.

The papers' ensembles (LITETime, InceptionTime, DSP-LITETime, ...) are five independent
fits of one network whose class probabilities are averaged. Run as a sweep variant with
``members`` (:class:`~sparsetsc.bench.Variant`), each member is a job of its own: member 1
has the plain job seed and the label of the single-model variant, so it *is* that
variant's job (a committed single result is reused, never refitted); member k > 1 has a
seed derived from it (:func:`~sparsetsc.bench.jobs.job_seed`) and the label
``"<single label> (member k)"``. Once every member of a dataset and resample has its
result file, the ensemble's result file is written from them: the members' probabilities
averaged (what ``EnsembleClassifier.predict_proba`` does), the costs summed (every member
runs at inference), a pruned model's compression averaged, and each member's label, seed
and test accuracy recorded for the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from .jobs import Job, git_revision
from .store import read_result, result_path, write_result

__all__ = ["JobEnsemble", "member_label"]

#: Costs that add up over the members (each runs at inference, each was trained).
_SUMMED = (
    "params",
    "params_nonzero",
    "params_trainable",
    "macs",
    "macs_dense",
    "fit_seconds",
    "predict_seconds",
    "latency_b1_ms",
    "latency_b64_ms",
)
#: Settings every member shares, copied from the first.
_SHARED = (
    "model_key",
    "estimator",
    "requested_epochs",
    "epochs",
    "params_override",
    "seed_policy",
    "classes",
    "n_train",
    "n_channels",
    "n_timepoints",
    "device",
    "precision",
    "precision_resolved",
)


def member_label(single_label: str, member: int) -> str:
    """The results folder of an ensemble's ``member`` (0-based): the single model's label
    for the first, ``"<label> (member k)"`` (k = member + 1) for the others."""
    return single_label if member == 0 else f"{single_label} (member {member + 1})"


@dataclass(frozen=True)
class JobEnsemble:
    """One ensemble result (a variant on one dataset and resample) and its member jobs."""

    name: str
    members: tuple[Job, ...]

    @property
    def dataset(self) -> str:
        return self.members[0].dataset

    @property
    def resample(self) -> int:
        return self.members[0].resample

    def result_path(self, runs_dir: str | os.PathLike[str]) -> Path:
        return result_path(runs_dir, self.name, self.dataset, self.resample)

    def ready(self, runs_dir: str | os.PathLike[str]) -> bool:
        """Whether every member has its result file."""
        return all(job.result_path(runs_dir).exists() for job in self.members)

    def combine(self, runs_dir: str | os.PathLike[str]) -> float:
        """Write the ensemble's result from its members' results; return its accuracy.

        Raises ``ValueError`` when the members disagree on the test cases or the classes.
        """
        results = [read_result(job.result_path(runs_dir)) for job in self.members]
        first = results[0]
        for job, result in zip(self.members, results, strict=True):
            if result.metadata.get("seed") != job.seed:
                raise ValueError(
                    f"{self}: {job} holds a result of seed {result.metadata.get('seed')}, "
                    f"not the member's seed {job.seed}"
                )
            if result.metadata.get("classes") != first.metadata.get("classes") or not (
                np.array_equal(result.y_true, first.y_true)
            ):
                raise ValueError(f"{self}: {job} was tested on other cases or classes")
        probabilities = np.mean([result.probabilities for result in results], axis=0)
        y_pred = np.argmax(probabilities, axis=1)
        metas = [result.metadata for result in results]
        metadata: dict[str, Any] = {key: metas[0].get(key) for key in _SHARED}
        for key in _SUMMED:
            values = [meta.get(key) for meta in metas]
            metadata[key] = (
                None if any(v is None for v in values) else round(float(np.sum(values)), 4)
            )
        metadata |= {
            "ensemble_of": self.members[0].name,
            "n_members": len(results),
            "member_labels": [job.name for job in self.members],
            "member_seeds": [job.seed for job in self.members],
            "member_accuracies": [result.accuracy for result in results],
            "seed": self.members[0].seed,
            "fitted": _mean_compression(metas),
            "model_saved": False,
            "cpu": _joined(meta.get("cpu") for meta in metas),
            "torch_threads": _joined(meta.get("torch_threads") for meta in metas),
            "member_git_revisions": [meta.get("git_revision") for meta in metas],
            "sparsetsc_version": __version__,
            "git_revision": git_revision(),
        }
        write_result(
            self.result_path(runs_dir),
            dataset=self.dataset,
            model=self.name,
            resample=self.resample,
            y_true=first.y_true,
            y_pred=y_pred,
            probabilities=probabilities,
            metadata=metadata,
        )
        return float(np.mean(y_pred == first.y_true))

    def __str__(self) -> str:
        return f"{self.name}/{self.dataset}/resample {self.resample}"


def _mean_compression(metas: list[dict[str, Any]]) -> dict[str, Any]:
    # A pruned ensemble's compression is the mean of its members' (the DSP paper's figure).
    compressions = [(meta.get("fitted") or {}).get("compression_") for meta in metas]
    if any(not c for c in compressions):
        return {}
    return {
        "compression_": {
            key: float(np.mean([c[key] for c in compressions]))
            for key in compressions[0]
            if all(isinstance(c.get(key), (int, float)) for c in compressions)
        }
    }


def _joined(values: Any) -> Any:
    # One value when the members agree (the usual case), else all of them.
    values = list(values)
    return values[0] if all(v == values[0] for v in values) else values
