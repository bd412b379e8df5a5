"""Ensembles run as member jobs: seeds, sharing with single-model jobs, the combined result."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sparsetsc.bench import Variant, plan_sweep, read_result, run_sweep
from sparsetsc.bench.ensembles import member_label
from sparsetsc.bench.jobs import job_seed

TINY_FCN = (("kernel_sizes", (3,)), ("n_filters", (4,)))
ENSEMBLE = Variant("FCNTime", "fcn", TINY_FCN, members=3, member_label="FCN")
SINGLE = Variant("", "fcn", TINY_FCN)  # the results folder "FCN": the first member's


def _plan(runs, root, variants=(SINGLE, ENSEMBLE), **kwargs):
    return plan_sweep(
        list(variants), ["TinyA", "TinyB"], [0], runs, epochs=2, data_root=str(root), **kwargs
    )


def test_member_seeds_start_from_the_job_seed_and_differ():
    seeds = [job_seed("GunPoint", 0, "dataset", k) for k in range(5)]
    assert seeds[0] == job_seed("GunPoint", 0, "dataset")
    assert len(set(seeds)) == 5 and all(0 <= s < 2**31 for s in seeds)
    assert seeds == [job_seed("GunPoint", 0, "dataset", k) for k in range(5)]  # stable
    assert job_seed("GunPoint", 0, "resample", 0) == 0 != job_seed("GunPoint", 0, "resample", 1)
    with pytest.raises(ValueError, match="member must be >= 0"):
        job_seed("GunPoint", 0, "dataset", -1)
    assert [member_label("LITE", k) for k in range(3)] == [
        "LITE",
        "LITE (member 2)",
        "LITE (member 3)",
    ]


def test_the_first_member_is_the_single_models_job_and_runs_once(tmp_path, tiny_archive):
    plan = _plan(tmp_path / "runs", tiny_archive)
    # 2 datasets x (FCN shared + 2 more members): 6 jobs, not 8
    assert len(plan.to_run) == 6
    assert sorted({job.name for job in plan.to_run}) == ["FCN", "FCN (member 2)", "FCN (member 3)"]
    assert len(plan.ensembles) == 2 and plan.ensembles_finished == []


def test_the_ensemble_result_averages_its_members(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    summary = run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    assert [o.status for o in summary.outcomes] == ["done"] * 6
    assert len(summary.combined) == 2
    for dataset in ("TinyA", "TinyB"):
        folders = ["FCN", "FCN (member 2)", "FCN (member 3)"]
        members = [
            read_result(runs / f / "Predictions" / dataset / "testResample0.csv") for f in folders
        ]
        ensemble = read_result(runs / "FCNTime" / "Predictions" / dataset / "testResample0.csv")
        mean = np.mean([m.probabilities for m in members], axis=0)
        # the average, stored at float32 precision like every result's probabilities
        np.testing.assert_array_equal(ensemble.probabilities, mean.astype(np.float32))
        np.testing.assert_array_equal(ensemble.y_pred, np.argmax(mean, axis=1))
        meta = ensemble.metadata
        assert meta["ensemble_of"] == "FCN" and meta["n_members"] == 3
        assert meta["member_seeds"] == [job_seed(dataset, 0, "dataset", k) for k in range(3)]
        assert meta["member_seeds"] == [m.metadata["seed"] for m in members]
        assert meta["member_accuracies"] == [m.accuracy for m in members]
        assert [m.metadata["member"] for m in members] == [0, 1, 2]
        assert meta["params"] == sum(m.metadata["params"] for m in members)
        assert meta["macs"] == sum(m.metadata["macs"] for m in members)
        assert meta["requested_epochs"] == 2 and meta["params_override"]["n_filters"] == [4]
    again = _plan(runs, tiny_archive)
    assert again.to_run == [] and again.ensembles == [] and len(again.ensembles_finished) == 2


def test_an_ensemble_waits_for_all_its_members(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    plan = _plan(runs, tiny_archive, variants=(ENSEMBLE,), order="dataset")
    summary = run_sweep(plan, data_root=str(tiny_archive), progress=False, deadline=time.time())
    assert {o.status for o in summary.outcomes} == {"skipped"}
    assert summary.combined == []
    assert not (runs / "FCNTime").exists()


def test_a_member_label_used_by_another_model_is_refused(tmp_path, tiny_archive):
    other = Variant("FCN", "fcn", (("kernel_sizes", (5,)), ("n_filters", (4,))))
    with pytest.raises(ValueError, match="its member 'FCN' is also a variant"):
        _plan(tmp_path / "runs", tiny_archive, variants=(other, ENSEMBLE))
    with pytest.raises(ValueError, match="members >= 2"):
        _plan(tmp_path / "runs", tiny_archive, variants=(Variant("X", "fcn", members=1),))
    assert not (tmp_path / "runs").exists()


def test_one_ensemble_kind_never_reads_the_others_result(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    # The same folder fitted as one model (an estimator ensemble under the same label).
    as_one_model = Variant("FCNTime", "fcn", TINY_FCN)
    with pytest.raises(ValueError, match="combined from member jobs"):
        _plan(runs, tiny_archive, variants=(as_one_model,))
    # ... and an ensemble of other members.
    other_members = Variant("FCNTime", "fcn", TINY_FCN, members=3, member_label="FCN small")
    with pytest.raises(ValueError, match="not this ensemble"):
        _plan(runs, tiny_archive, variants=(other_members,))


def test_a_corrupt_ensemble_result_is_written_again_from_its_members(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    path = runs / "FCNTime" / "Predictions" / "TinyA" / "testResample0.csv"
    good = path.read_text()
    path.write_text(good[: len(good) // 2])
    plan = _plan(runs, tiny_archive)
    assert plan.to_run == [] and len(plan.ensembles) == 1
    summary = run_sweep(plan, data_root=str(tiny_archive), progress=False)
    assert len(summary.combined) == 1 and path.read_text() == good
    assert len(list(path.parent.glob("*.corrupt-*"))) == 1
