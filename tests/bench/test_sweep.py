"""Sweeps: planning, resume after a kill, failures, budgets, Dask, suites and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sparsetsc.bench import plan_sweep, read_result, resolve_datasets, run_sweep
from sparsetsc.bench.jobs import cpu_model
from sparsetsc.bench.store import iter_results
from sparsetsc.cli import main
from sparsetsc.data import DatasetNotFoundError

#: Cheap FCN settings: a sweep job trains in about a second.
TINY_FCN = {"n_filters": (4,), "kernel_sizes": (3,)}
EPOCHS = 2


def _plan(runs, root, **kwargs):
    kwargs.setdefault("params", {"fcn": TINY_FCN})
    return plan_sweep(
        ["fcn"], ["TinyA", "TinyB"], range(2), runs, epochs=EPOCHS, data_root=str(root), **kwargs
    )


def _results(runs) -> list[tuple[str, str, int]]:
    found = [read_result(path) for path in iter_results(runs)]
    return sorted((r.model, r.dataset, r.resample) for r in found)


EXPECTED = [("FCN", d, s) for d in ("TinyA", "TinyB") for s in (0, 1)]


def test_sweep_writes_one_valid_result_per_job_and_skips_them_on_rerun(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    summary = run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    assert [o.status for o in summary.outcomes] == ["done"] * 4
    assert _results(runs) == EXPECTED
    result = read_result(runs / "FCN" / "Predictions" / "TinyB" / "testResample1.csv")
    meta = result.metadata
    assert meta["epochs"] == EPOCHS and meta["n_train"] == 20 and result.y_true.shape == (20,)
    assert meta["params"] > 0 and meta["macs"] > 0 and meta["latency_b64_ms"] > 0
    assert meta["sparsetsc_version"] and "git_revision" in meta
    again = _plan(runs, tiny_archive)
    assert again.to_run == [] and len(again.finished) == 4


def test_resample_zero_is_the_official_split_and_others_differ(tiny_archive):
    from sparsetsc.bench import load_resample

    official = load_resample("TinyA", 0, str(tiny_archive))
    resampled = load_resample("TinyA", 1, str(tiny_archive))
    assert official[0].shape == resampled[0].shape
    assert not (official[0] == resampled[0]).all()


def test_sweep_interrupted_mid_write_resumes_without_loss_or_duplicates(
    tmp_path, tiny_archive, monkeypatch
):
    runs = tmp_path / "runs"
    import sparsetsc.bench.store as store

    real_replace, calls = os.replace, []

    def replace_then_die(source, target):
        calls.append(target)
        if len(calls) == 2:  # the second result file is being renamed into place: kill
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(store.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    monkeypatch.setattr(store.os, "replace", real_replace)
    assert len(_results(runs)) == 1
    plan = _plan(runs, tiny_archive)
    assert len(plan.finished) == 1 and len(plan.to_run) == 3
    run_sweep(plan, data_root=str(tiny_archive), progress=False)
    assert _results(runs) == EXPECTED
    assert not [p for p in runs.rglob("*") if p.name.startswith(".tmp-")]


def test_sweep_killed_by_sigkill_resumes(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "sparsetsc.cli",
        "bench",
        "--models",
        "fcn",
        "--datasets",
        "TinyA,TinyB",
        "--seeds",
        "3",
        "--epochs",
        "10",
        "--param",
        "fcn:n_filters=(4,)",
        "--param",
        "fcn:kernel_sizes=(3,)",
        "--data-root",
        str(tiny_archive),
        "--runs",
        str(runs),
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(iter_results(runs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 1 <= len(list(iter_results(runs))) < 6, "the kill should land mid-sweep"
    for path in iter_results(runs):
        read_result(path)  # every file present is complete
    assert main(command[3:]) == 0
    assert len(_results(runs)) == 6 == len(set(_results(runs)))


def test_failed_job_is_recorded_reported_and_not_silently_retried(tmp_path, tiny_archive, capsys):
    runs = tmp_path / "runs"
    bad = {"fcn": {**TINY_FCN, "batch_size": "no-such-rule"}}
    summary = run_sweep(
        _plan(runs, tiny_archive, params=bad), data_root=str(tiny_archive), progress=False
    )
    assert [o.status for o in summary.outcomes] == ["failed"] * 4
    assert "no-such-rule" in summary.failed[0].error
    records = list(runs.rglob("*.failed.json"))
    assert len(records) == 4 and _results(runs) == []
    plan = _plan(runs, tiny_archive, params=bad)
    assert plan.to_run == [] and len(plan.failed_before) == 4
    assert "no-such-rule" in plan.failed_before[0][1]
    retried = _plan(runs, tiny_archive, params=bad, retry_failed=True)
    assert len(retried.to_run) == 4


def test_corrupt_result_is_moved_aside_and_rerun(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    damaged = runs / "FCN" / "Predictions" / "TinyA" / "testResample0.csv"
    damaged.write_text(damaged.read_text()[:200])
    plan = _plan(runs, tiny_archive)
    assert [str(job) for job, _ in plan.corrupt] == ["FCN/TinyA/resample 0"]
    assert len(plan.to_run) == 1 and len(plan.finished) == 3
    assert len(list(damaged.parent.glob("testResample0.corrupt-*"))) == 1
    run_sweep(plan, data_root=str(tiny_archive), progress=False)
    assert _results(runs) == EXPECTED


def test_other_budget_in_the_same_runs_dir_is_refused(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    run_sweep(_plan(runs, tiny_archive), data_root=str(tiny_archive), progress=False)
    with pytest.raises(ValueError, match="another runs directory"):
        plan_sweep(
            ["fcn"],
            ["TinyA"],
            [0],
            runs,
            epochs=EPOCHS + 1,
            params={"fcn": TINY_FCN},
            data_root=str(tiny_archive),
        )
    # another precision is another budget too; the result records what was asked and what ran
    with pytest.raises(ValueError, match="precision bf16"):
        _plan(runs, tiny_archive, precision="bf16")
    metadata = read_result(runs / "FCN" / "Predictions" / "TinyA" / "testResample0.csv").metadata
    assert (metadata["precision"], metadata["precision_resolved"]) == ("fp32", "fp32")
    with pytest.raises(ValueError, match="precision must be one of"):
        _plan(tmp_path / "other", tiny_archive, precision="fp16")


def test_bad_requests_fail_before_any_write(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    with pytest.raises(DatasetNotFoundError):
        plan_sweep(["fcn"], ["TinyA", "NoSuchSet"], [0], runs, data_root=str(tiny_archive))
    with pytest.raises(ValueError, match="unknown model"):
        plan_sweep(["resnet"], ["TinyA"], [0], runs, data_root=str(tiny_archive))
    assert not runs.exists()
    assert (
        main(
            f"bench --models fcn --datasets TinyA --param fcn:nope=1 --data-root {tiny_archive} "
            f"--runs {runs}".split()
        )
        == 2
    )
    assert not runs.exists()


def _two_fcn_jobs(runs, tiny_archive):
    return plan_sweep(
        ["fcn"],
        ["TinyA", "TinyB"],
        [0],
        runs,
        epochs=EPOCHS,
        params={"fcn": TINY_FCN},
        data_root=str(tiny_archive),
    )


def test_two_jobs_on_a_dask_local_cluster(tmp_path, tiny_archive):
    pytest.importorskip("distributed")
    runs = tmp_path / "runs"
    plan = _two_fcn_jobs(runs, tiny_archive)
    summary = run_sweep(
        plan, data_root=str(tiny_archive), scheduler="local", n_jobs=2, progress=False
    )
    assert sorted(o.status for o in summary.outcomes) == ["done", "done"]
    assert _results(runs) == [("FCN", "TinyA", 0), ("FCN", "TinyB", 0)]
    assert (
        read_result(runs / "FCN" / "Predictions" / "TinyA" / "testResample0.csv").metadata[
            "torch_threads"
        ]
        >= 1
    )


def test_local_process_pool(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    plan = _two_fcn_jobs(runs, tiny_archive)
    summary = run_sweep(plan, data_root=str(tiny_archive), n_jobs=2, progress=False)
    assert sorted(o.status for o in summary.outcomes) == ["done", "done"]
    metadata = [read_result(p).metadata for p in iter_results(runs)]
    assert {m["torch_threads"] for m in metadata} == {max(1, (os.cpu_count() or 1) // 2)}
    # the processor is recorded, as the machine's own description names it
    assert {m["cpu"] for m in metadata} == {cpu_model()}
    if Path("/proc/cpuinfo").is_file():
        assert f": {cpu_model()}\n" in Path("/proc/cpuinfo").read_text()


def test_resolve_datasets(tmp_path):
    assert resolve_datasets("smoke") == ["GunPoint", "ItalyPowerDemand", "Coffee"]
    assert len(resolve_datasets("dev")) == 60
    assert resolve_datasets(" A, B ,A ") == ["A", "B"]
    listing = tmp_path / "sets.txt"
    listing.write_text("# mine\nGunPoint\nCoffee, Wine  # two more\n\n")
    assert resolve_datasets(str(listing)) == ["GunPoint", "Coffee", "Wine"]
    with pytest.raises(ValueError, match="names no dataset"):
        resolve_datasets(" , ")


def test_peer_minirocket_runs_in_the_sweep(tmp_path, tiny_archive):
    pytest.importorskip("aeon")
    runs = tmp_path / "runs"
    plan = plan_sweep(["minirocket"], ["TinyA"], [0], runs, data_root=str(tiny_archive))
    summary = run_sweep(plan, data_root=str(tiny_archive), progress=False)
    assert summary.outcomes[0].status == "done"
    result = read_result(runs / "MiniROCKET" / "Predictions" / "TinyA" / "testResample0.csv")
    assert result.accuracy > 0.6 and result.metadata["macs"] is None


def test_a_deadline_starts_no_job_after_it_and_each_outcome_is_reported(
    tmp_path, tiny_archive, monkeypatch
):
    runs = tmp_path / "runs"
    plan = _plan(runs, tiny_archive, order="dataset")
    # dataset by dataset: both resamples of TinyA, then of TinyB
    assert [(j.dataset, j.resample) for j in plan.to_run] == [
        ("TinyA", 0),
        ("TinyA", 1),
        ("TinyB", 0),
        ("TinyB", 1),
    ]

    class Clock:  # the wall clock reads 0 when the first job starts, 100 from then on
        readings = iter([0.0])
        perf_counter = staticmethod(time.perf_counter)

        def time(self):
            return next(self.readings, 100.0)

    monkeypatch.setattr("sparsetsc.bench.sweep.time", Clock())
    seen = []
    summary = run_sweep(
        plan, data_root=str(tiny_archive), progress=False, deadline=10.0, on_outcome=seen.append
    )
    assert [o.status for o in seen] == ["done", "skipped", "skipped", "skipped"]
    assert seen == summary.outcomes and len(summary.skipped) == 3 and not summary.failed
    assert _results(runs) == [("FCN", "TinyA", 0)]
    # skipped jobs wrote nothing, not even a failure record: a resumed sweep runs them
    assert not list(runs.rglob("*.failed.json"))
    assert len(_plan(runs, tiny_archive).to_run) == 3


def test_the_deadline_holds_in_pool_workers(tmp_path, tiny_archive):
    plan = _plan(tmp_path / "runs", tiny_archive)
    summary = run_sweep(
        plan, data_root=str(tiny_archive), n_jobs=2, progress=False, deadline=time.time() - 1
    )
    assert len(summary.skipped) == 4 and not list(iter_results(tmp_path / "runs"))


def test_results_record_the_device_they_trained_on(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    plan = plan_sweep(
        ["fcn"],
        ["TinyA"],
        [0],
        runs,
        epochs=1,
        params={"fcn": TINY_FCN},
        data_root=str(tiny_archive),
    )
    run_sweep(plan, data_root=str(tiny_archive), progress=False)
    meta = read_result(runs / "FCN" / "Predictions" / "TinyA" / "testResample0.csv").metadata
    assert meta["device"] == "cpu" and meta["device_resolved"] == "cpu"
    assert meta["device_name"] == cpu_model() and meta["cuda_version"] is None
    assert meta["torch_version"] == torch.__version__


def test_an_unknown_order_is_refused(tmp_path, tiny_archive):
    with pytest.raises(ValueError, match="order"):
        _plan(tmp_path, tiny_archive, order="random")
