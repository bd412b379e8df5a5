"""Sweeps: models × datasets × resamples, resumable, on a local pool or a Dask cluster.

Before any work the sweep checks every model name and locates every dataset, then sorts
the jobs into finished (a valid result file), failed before (a failure record: reported and
skipped unless ``retry_failed``) and to run. A corrupt result file is moved aside to
``*.corrupt`` (kept for inspection) and its job runs again. Temporary files of a killed
sweep are removed. Every job writes its own file, so a sweep killed at any moment resumes
with nothing lost, duplicated or half-written. A sweep that keeps fitted models
(``save_models``) runs again the finished jobs whose model was not kept.

A sweep with a ``deadline`` starts no job after it: a job whose turn comes later is
reported as skipped, writes nothing and runs when the sweep is resumed. A job already
running at the deadline finishes (or is killed from outside, leaving no result file).
With ``order="dataset"`` the jobs run dataset by dataset (every variant of the first
dataset, then of the second, ...), so a sweep cut short holds complete comparisons.

A variant with ``members`` is an ensemble run as separate jobs, one per member
(:mod:`sparsetsc.bench.ensembles`); its result is written once all its members' are.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._progress import progress_bar
from ..data import locate_dataset
from ..train import DEFAULT_PRECISION, PRECISIONS
from .ensembles import JobEnsemble, member_label
from .jobs import DEFAULT_SEED_POLICY, SEED_POLICIES, Job, JobOutcome, run_job
from .models import PEERS, available_models
from .store import (
    CorruptResultError,
    read_failure,
    read_result,
    remove_stale_temporaries,
    result_path,
)

__all__ = ["SWEEP_ORDERS", "SweepPlan", "SweepSummary", "Variant", "plan_sweep", "run_sweep"]

#: The DSP models whose fitted result gives a uniform-width control (``Variant.uniform_of``).
DSP_SINGLE_MODELS = ("dsp-lite", "dsp-inception")

#: The order of a sweep's jobs: variant by variant (each over every dataset), or dataset by
#: dataset (each with every variant).
SWEEP_ORDERS = ("variant", "dataset")


@dataclass(frozen=True)
class Variant:
    """A model with hyper-parameter overrides under its own label (one row of a study).

    ``uniform_of``: the label of another variant of the sweep, a DSP model; this variant is
    then its uniform-width control, built from that variant's fitted model on each dataset
    and resample (so its size follows the DSP result without a second sparsity phase), and
    ``model`` is the backbone's key. Such variants run after every other job of the sweep.

    ``members`` > 0: an ensemble of that many fits of ``model`` with ``params``, each a job
    of its own whose results folder is ``member_label`` (the first member; a single-model
    variant of that label shares it) or ``"<member_label> (member k)"``; the variant's own
    result averages their probabilities (:class:`~sparsetsc.bench.ensembles.JobEnsemble`).
    """

    label: str
    model: str
    params: tuple[tuple[str, Any], ...] = ()
    uniform_of: str = ""
    members: int = 0
    member_label: str = ""

    @property
    def name(self) -> str:
        """The results folder: the label, or the model's display name when it is empty."""
        return Job(self.model, "", 0, label=self.label or None).name


@dataclass
class SweepPlan:
    """The jobs of a sweep sorted by their state on disk."""

    runs_dir: Path
    to_run: list[Job]
    finished: list[Job] = field(default_factory=list)
    failed_before: list[tuple[Job, str]] = field(default_factory=list)
    corrupt: list[tuple[Job, str]] = field(default_factory=list)
    without_model: list[Job] = field(default_factory=list)  # finished, refit to keep the model
    stale_temporaries: int = 0
    #: ensembles run as member jobs whose result is still to be written from the members'
    ensembles: list[JobEnsemble] = field(default_factory=list)
    ensembles_finished: list[JobEnsemble] = field(default_factory=list)


@dataclass
class SweepSummary:
    """What a sweep did."""

    plan: SweepPlan
    outcomes: list[JobOutcome]
    seconds: float

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    #: ensemble results written from their members' results by this sweep
    combined: list[JobEnsemble] = field(default_factory=list)

    @property
    def skipped(self) -> list[JobOutcome]:
        """Jobs not started because the sweep's deadline had passed (nothing written)."""
        return [o for o in self.outcomes if o.status == "skipped"]


def _check_budget(job: Job, metadata: dict[str, Any]) -> None:
    # A finished result at another budget is not this sweep's result: refuse, do not mix.
    asked = json.loads(json.dumps(dict(job.params)))  # as stored: tuples become lists
    if metadata.get("ensemble_of"):
        raise ValueError(
            f"{job}: the runs directory holds there an ensemble combined from member jobs "
            f"({metadata['ensemble_of']}); this sweep fits it as one model. Use another label "
            "or runs directory."
        )
    precision = metadata.get("precision", "fp32")  # results from before precision existed
    # Results from before the seed policy used random_state = resample.
    seed = metadata.get("seed", job.resample)
    if (
        metadata.get("requested_epochs") != job.epochs
        or metadata.get("params_override", {}) != asked
        or precision != job.precision
        or seed != job.seed
    ):
        policy = metadata.get("seed_policy", "resample")
        raise ValueError(
            f"{job}: the runs directory already holds a result made with epochs="
            f"{metadata.get('requested_epochs')}, params {metadata.get('params_override', {})}, "
            f"precision {precision} and seed {seed} (seed policy {policy}); this sweep asks "
            f"for epochs={job.epochs}, params {dict(job.params)}, precision {job.precision} "
            f"and seed {job.seed} (seed policy {job.seed_policy}). "
            "Use another runs directory."
        )


def plan_sweep(
    models: Sequence[str | Variant],
    datasets: Sequence[str],
    resamples: Iterable[int],
    runs_dir: str | os.PathLike[str],
    *,
    epochs: int | Mapping[str, int] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    device: str = "cpu",
    data_root: str | None = None,
    retry_failed: bool = False,
    check_data: bool = True,
    save_models: bool = False,
    precision: str = DEFAULT_PRECISION,
    seed_policy: str = DEFAULT_SEED_POLICY,
    order: str = "variant",
) -> SweepPlan:
    """Check the request and sort its jobs by state; raises ``ValueError`` before any work.

    ``models``: model keys (``params`` maps a key to its hyper-parameter overrides) or
    labelled :class:`Variant` s (a study's rows; an empty label is the model's display
    name). ``save_models`` keeps every fitted deep model next to its result (ROCKET peers
    have nothing to save). ``epochs``: every deep model's budget, or a mapping from model key
    to epochs (a key it does not name trains its published default). ``precision`` is every
    deep model's; results of another precision in ``runs_dir`` are refused, as those of
    another epoch budget are.
    ``seed_policy`` chooses each job's model seed (``"dataset"``: a stable hash of dataset
    and resample; ``"resample"``: the resample id, tsml-eval's convention); results made
    with another seed are refused too. ``order`` (:data:`SWEEP_ORDERS`): ``"variant"`` runs
    each variant over every dataset in turn; ``"dataset"`` runs every variant of the first
    dataset, then of the next, so a sweep stopped early (a ``deadline``) leaves whole
    comparisons on the first datasets rather than one variant on many."""
    if order not in SWEEP_ORDERS:
        raise ValueError(f"order must be one of {SWEEP_ORDERS}; got {order!r}")
    params = params or {}
    variants = [
        model
        if isinstance(model, Variant)
        else Variant("", model, tuple(sorted(params.get(model, {}).items())))
        for model in models
    ]
    unknown = sorted({v.model for v in variants} - set(available_models()))
    if unknown:
        raise ValueError(
            f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(available_models())}"
        )
    for variant in variants:
        if any(character in variant.label for character in ",/\\\n"):
            raise ValueError(f"variant label {variant.label!r} may not hold , / \\ or newlines")
    names = [variant.name for variant in variants]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"two variants share the results folder {', '.join(duplicated)}")
    _check_ensembles(variants)
    controls_of = _check_uniform_sources(variants)
    resamples = list(resamples)
    if not variants or not datasets or not resamples or min(resamples) < 0:
        raise ValueError("a sweep needs at least one model, one dataset and resamples >= 0")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if seed_policy not in SEED_POLICIES:
        raise ValueError(f"seed policy must be one of {SEED_POLICIES}; got {seed_policy!r}")
    epochs_of = _epochs_of(epochs)
    if check_data:
        for dataset in datasets:
            locate_dataset(dataset, data_root, download=False)  # raises DatasetNotFoundError
    runs_dir = Path(runs_dir)
    if runs_dir.exists() and not runs_dir.is_dir():
        raise ValueError(f"the runs directory {runs_dir} exists and is not a directory")
    plan = SweepPlan(runs_dir, to_run=[])
    if runs_dir.exists():
        plan.stale_temporaries = remove_stale_temporaries(runs_dir)
    planned: set[Path] = set()  # an ensemble's first member may be a variant's job too
    # Single-model variants first: a shared job is planned as theirs (e.g. kept for a control).
    for variant in sorted(variants, key=lambda v: v.members > 0):
        for dataset in datasets:
            for resample in resamples:
                if variant.members:
                    members = tuple(
                        Job(
                            variant.model,
                            dataset,
                            resample,
                            epochs_of(variant.model),
                            variant.params,
                            device,
                            member_label(variant.member_label, k),
                            save_models,
                            precision,
                            seed_policy,
                            member=k,
                        )
                        for k in range(variant.members)
                    )
                    for job in members:
                        if job.result_path(runs_dir) not in planned:
                            planned.add(job.result_path(runs_dir))
                            _sort_job(job, runs_dir, plan, retry_failed)
                    _sort_ensemble(JobEnsemble(variant.name, members), runs_dir, plan)
                    continue
                # A DSP model is kept only while a uniform control still has to be built
                # from it, so a finished result whose model was not kept (a results folder
                # shipped without its models) is not fitted again for nothing.
                keep_model = save_models or (
                    variant.name in controls_of
                    and not all(
                        result_path(runs_dir, control, dataset, resample).exists()
                        for control in controls_of[variant.name]
                    )
                )
                job = Job(
                    variant.model,
                    dataset,
                    resample,
                    epochs_of(variant.model),
                    variant.params,
                    device,
                    variant.label or None,
                    keep_model,
                    precision,
                    seed_policy,
                    variant.uniform_of or None,
                )
                if job.result_path(runs_dir) not in planned:
                    planned.add(job.result_path(runs_dir))
                    _sort_job(job, runs_dir, plan, retry_failed)
    if order == "dataset":  # stable: each dataset's variants keep the study's order
        position = {dataset: index for index, dataset in enumerate(datasets)}
        plan.to_run.sort(key=lambda job: (position[job.dataset], job.resample))
    return plan


def _epochs_of(epochs: int | Mapping[str, int] | None) -> Callable[[str], int | None]:
    """``model key -> epochs``: one budget for all, or per model (absent: its default)."""
    per_model = dict(epochs) if isinstance(epochs, Mapping) else None
    for value in per_model.values() if per_model is not None else [epochs]:
        if value is not None and value < 1:
            raise ValueError(f"epochs must be >= 1; got {value}")
    if per_model is not None:
        return per_model.get
    return lambda model: epochs


def _check_ensembles(variants: list[Variant]) -> None:
    """An ensemble variant names its members' label, and a single-model variant of that
    label (whose jobs are its first members) is the same model with the same settings."""
    by_name = {variant.name: variant for variant in variants}
    for variant in variants:
        if not variant.members:
            continue
        if variant.members < 2 or not variant.member_label or variant.uniform_of:
            raise ValueError(
                f"variant {variant.name!r}: an ensemble of member jobs needs members >= 2, a "
                "member_label, and no uniform_of"
            )
        if any(character in variant.member_label for character in ",/\\\n"):
            raise ValueError(
                f"member label {variant.member_label!r} may not hold , / \\ or newlines"
            )
        labels = {member_label(variant.member_label, k) for k in range(variant.members)}
        for label in labels & set(by_name):
            single = by_name[label]
            if (single.model, single.params, single.members, single.uniform_of) != (
                variant.model,
                variant.params,
                0,
                "",
            ):
                raise ValueError(
                    f"variant {variant.name!r}: its member {label!r} is also a variant of the "
                    f"sweep with other settings ({single.model} {dict(single.params)})"
                )


def _sort_ensemble(ensemble: JobEnsemble, runs_dir: Path, plan: SweepPlan) -> None:
    path = ensemble.result_path(runs_dir)
    if not path.exists():
        plan.ensembles.append(ensemble)
        return
    try:
        metadata = read_result(path).metadata
    except CorruptResultError:  # written again from its members
        path.rename(path.with_suffix(f".corrupt-{int(time.time())}"))
        plan.ensembles.append(ensemble)
        return
    found = (metadata.get("member_labels"), metadata.get("member_seeds"))
    expected = ([job.name for job in ensemble.members], [job.seed for job in ensemble.members])
    if found != expected:
        raise ValueError(
            f"{ensemble}: the runs directory holds a result there that is not this ensemble "
            f"of member jobs (members {found[0]}, seeds {found[1]}; expected {expected[0]}, "
            f"seeds {expected[1]}). Use another runs directory."
        )
    plan.ensembles_finished.append(ensemble)


def _check_uniform_sources(variants: list[Variant]) -> dict[str, list[str]]:
    """The labels whose fitted models other variants take their uniform control from, each
    with the names of those control variants."""
    by_name = {variant.name: variant for variant in variants}
    controls_of: dict[str, list[str]] = {}
    for variant in variants:
        if not variant.uniform_of:
            continue
        source = by_name.get(variant.uniform_of)
        if source is None:
            raise ValueError(
                f"variant {variant.name!r} is the uniform control of {variant.uniform_of!r}, "
                "which is not a variant of this sweep"
            )
        if source.model not in DSP_SINGLE_MODELS or dict(source.params).get("widths") == "uniform":
            raise ValueError(
                f"variant {variant.name!r}: a uniform control is taken from a DSP model "
                f"({', '.join(DSP_SINGLE_MODELS)}) with DSP's widths; {source.name!r} is "
                f"{source.model!r} with {dict(source.params)}"
            )
        if source.uniform_of:
            raise ValueError(f"variant {variant.name!r}: {source.name!r} is itself a control")
        controls_of.setdefault(source.name, []).append(variant.name)
    return controls_of


def _sort_job(job: Job, runs_dir: Path, plan: SweepPlan, retry_failed: bool) -> None:
    path = job.result_path(runs_dir)
    if path.exists():
        try:
            result = read_result(path)
        except CorruptResultError as err:
            aside = path.with_suffix(f".corrupt-{int(time.time())}")
            path.rename(aside)
            plan.corrupt.append((job, f"{err} (moved to {aside.name})"))
            plan.to_run.append(job)
            return
        _check_budget(job, result.metadata)
        if (
            job.save_model
            and job.model not in PEERS
            and not (result.metadata.get("model_saved") and job.model_path(runs_dir).is_dir())
        ):
            plan.without_model.append(job)
            plan.to_run.append(job)
            return
        plan.finished.append(job)
        return
    failure = job.failure_path(runs_dir)
    if failure.exists() and not retry_failed:
        record = read_failure(failure)
        plan.failed_before.append((job, f"{record['error_type']}: {record['error']}"))
        return
    plan.to_run.append(job)


def _run_unless_late(
    job: Job,
    runs_dir: str,
    data_root: str | None,
    torch_threads: int | None,
    deadline: float | None,
) -> JobOutcome:
    """:func:`run_job`, or a ``skipped`` outcome when the job's turn comes after ``deadline``.

    Checked where the job runs, when it would start: pools hand out jobs ahead of time,
    and the wall clock (``time.time``) is the one clock all worker processes share.
    """
    if deadline is not None and time.time() >= deadline:
        return JobOutcome(job, "skipped", 0.0, error="not started: the sweep's deadline passed")
    return run_job(job, runs_dir, data_root, False, torch_threads)


def _local_outcomes(
    jobs: list[Job], runs_dir: str, data_root: str | None, n_jobs: int, deadline: float | None
) -> Iterator[JobOutcome]:
    if n_jobs <= 1:
        for job in jobs:
            yield _run_unless_late(job, runs_dir, data_root, None, deadline)
        return
    from joblib import Parallel, delayed

    # Share the cores: n_jobs workers × threads each never exceeds the machine.
    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    yield from parallel(
        delayed(_run_unless_late)(job, runs_dir, data_root, threads, deadline) for job in jobs
    )


def _dask_outcomes(
    jobs: list[Job],
    runs_dir: str,
    data_root: str | None,
    scheduler: str,
    n_jobs: int,
    deadline: float | None,
) -> Iterator[JobOutcome]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as err:
        raise ImportError(
            "the Dask executor needs the 'dask' extra: pip install 'sparsetsc[dask]'"
        ) from err
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(1, n_jobs), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        threads = None if cluster is None else max(1, (os.cpu_count() or 1) // max(1, n_jobs))
        futures = [
            client.submit(_run_unless_late, job, runs_dir, data_root, threads, deadline, pure=False)
            for job in jobs
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(
    plan: SweepPlan,
    *,
    data_root: str | None = None,
    n_jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    deadline: float | None = None,
    on_outcome: Callable[[JobOutcome], None] | None = None,
    on_combined: Callable[[JobEnsemble], None] | None = None,
) -> SweepSummary:
    """Run the plan's remaining jobs; each writes its result (or failure record) itself.

    ``scheduler``: None runs locally (``n_jobs`` processes, sequential by default);
    ``"local"`` starts a Dask ``LocalCluster`` of ``n_jobs`` workers; anything else is the
    address of a running Dask scheduler (e.g. one started by dask-jobqueue on SLURM).
    ``deadline``: a wall-clock time (``time.time()`` seconds) after which no job starts;
    the jobs left are ``skipped`` outcomes. ``on_outcome`` is called in this process with
    each outcome as it comes in (done, failed or skipped), e.g. to copy a finished result
    elsewhere before the sweep ends. An ensemble of member jobs is written as soon as its
    last member's result is (those whose members had all finished before, first);
    ``on_combined`` is then called with it.
    """
    started = time.perf_counter()
    runs_dir = str(plan.runs_dir)
    jobs = plan.to_run
    # Uniform controls read their DSP model from disk: they run once every source has.
    waves = [[job for job in jobs if not job.uniform_of], [job for job in jobs if job.uniform_of]]

    def outcomes_of(wave: list[Job]) -> Iterator[JobOutcome]:
        if scheduler is None:
            return _local_outcomes(wave, runs_dir, data_root, n_jobs, deadline)
        return _dask_outcomes(wave, runs_dir, data_root, scheduler, n_jobs, deadline)

    waiting, combined = list(plan.ensembles), []

    def combine_ready() -> None:
        for ensemble in [e for e in waiting if e.ready(runs_dir)]:
            ensemble.combine(runs_dir)
            waiting.remove(ensemble)
            combined.append(ensemble)
            if on_combined is not None:
                on_combined(ensemble)

    combine_ready()
    outcomes_iter = (outcome for wave in waves if wave for outcome in outcomes_of(wave))
    outcomes = []
    # tqdm shows done/total, elapsed and the remaining-time estimate.
    with progress_bar(total=len(jobs), desc="jobs", unit="job", disable=not progress) as bar:
        for outcome in outcomes_iter:
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            if outcome.status == "done" and waiting:
                combine_ready()
            bar.set_postfix_str(f"{outcome.job} {outcome.status}", refresh=False)
            bar.update(1)
    return SweepSummary(plan, outcomes, time.perf_counter() - started, combined)
