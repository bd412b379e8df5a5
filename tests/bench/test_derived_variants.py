"""Sweep variants built from another variant's fitted model (the uniform-width control of a
DSP result), per-model epoch budgets, study variant selection and the cost-ordered suite."""

from __future__ import annotations

import shutil

import pytest

from sparsetsc.bench import SUITES, Variant, job_seed, plan_sweep, run_sweep
from sparsetsc.bench.store import failure_path, read_failure
from sparsetsc.bench.studies import get_study
from sparsetsc.bench.suites import DEV, DEV_BY_COST
from sparsetsc.cli import main

DSP = Variant("DSP-LITE", "dsp-lite")
CONTROL = Variant("control", "lite", uniform_of="DSP-LITE")


def test_a_uniform_control_needs_a_dsp_variant_of_the_same_sweep(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    kwargs = {"data_root": str(tiny_archive), "epochs": 1}
    with pytest.raises(ValueError, match="not a variant of this sweep"):
        plan_sweep([CONTROL], ["TinyA"], [0], runs, **kwargs)
    with pytest.raises(ValueError, match="taken from a DSP model"):
        plan_sweep(
            [Variant("DSP-LITE", "lite"), CONTROL], ["TinyA"], [0], runs, **kwargs
        )  # a plain LITE has no pruned size
    uniform = Variant("DSP-LITE", "dsp-lite", (("widths", "uniform"),))
    with pytest.raises(ValueError, match="taken from a DSP model"):
        plan_sweep([uniform, CONTROL], ["TinyA"], [0], runs, **kwargs)
    assert not runs.exists()
    # the source keeps its model (the control is built from it) and runs first
    plan = plan_sweep([CONTROL, DSP], ["TinyA"], [0], runs, **kwargs)
    jobs = {job.name: job for job in plan.to_run}
    assert jobs["DSP-LITE"].save_model and jobs["control"].uniform_of == "DSP-LITE"


def test_a_dsp_model_is_refitted_only_while_its_control_still_needs_it(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    kwargs = {"data_root": str(tiny_archive), "epochs": 1}
    plan = plan_sweep([DSP, CONTROL], ["TinyA"], [0], runs, **kwargs)
    summary = run_sweep(plan, data_root=str(tiny_archive), progress=False)
    assert [outcome.status for outcome in summary.outcomes] == ["done", "done"]
    models = runs / "DSP-LITE" / "Models"
    assert (models / "TinyA" / "resample0" / "config.json").is_file()
    # a results folder shipped without its models: both results are there, nothing refits
    shutil.rmtree(models)
    plan = plan_sweep([DSP, CONTROL], ["TinyA"], [0], runs, **kwargs)
    assert not plan.to_run and not plan.without_model and len(plan.finished) == 2
    # the control still to build: the DSP model has to be fitted again to build it from
    (runs / "control" / "Predictions" / "TinyA" / "testResample0.csv").unlink()
    plan = plan_sweep([DSP, CONTROL], ["TinyA"], [0], runs, **kwargs)
    assert [str(job) for job in plan.without_model] == ["DSP-LITE/TinyA/resample 0"]
    assert sorted(job.name for job in plan.to_run) == ["DSP-LITE", "control"]


def test_a_control_whose_source_failed_is_recorded_with_the_reason(tmp_path, tiny_archive):
    runs = tmp_path / "runs"
    # the DSP job fails (an unknown recovery), so its control has no model to start from
    broken = Variant("DSP-LITE", "dsp-lite", (("recovery", "nope"),))
    plan = plan_sweep(
        [broken, CONTROL], ["TinyA"], [0], runs, epochs=1, data_root=str(tiny_archive)
    )
    summary = run_sweep(plan, data_root=str(tiny_archive), progress=False)
    assert [o.job.name for o in summary.outcomes] == ["DSP-LITE", "control"]
    assert [o.status for o in summary.outcomes] == ["failed", "failed"]
    record = read_failure(failure_path(runs, "control", "TinyA", 0))
    assert record["error_type"] == "FileNotFoundError"
    assert "needs the fitted model of DSP-LITE on TinyA, resample 0" in record["error"]
    assert record["job"]["seed"] == job_seed("TinyA", 0)  # failures record the seed too


def test_per_model_epochs(tmp_path, tiny_archive):
    plan = plan_sweep(
        ["lite", "dsn", "minirocket"],
        ["TinyA"],
        [0],
        tmp_path / "runs",
        epochs={"lite": 3, "dsn": 2},
        data_root=str(tiny_archive),
    )
    assert {job.model: job.epochs for job in plan.to_run} == {
        "lite": 3,
        "dsn": 2,
        "minirocket": None,
    }
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        plan_sweep(["lite"], ["TinyA"], [0], tmp_path, epochs={"lite": 0}, check_data=False)


def test_study_variants_option(tmp_path, tiny_archive, capsys):
    common = f"--datasets TinyA --seeds 1 --epochs 1 --quiet --data-root {tiny_archive}"
    runs = tmp_path / "runs"
    command = f"study reproduce --variants MiniROCKET --runs {runs} {common}"
    assert main(command.split()) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 jobs done, 0 failed")
    missing = len(get_study("reproduce").variants) - 1
    assert f"**{missing} results are missing**" in out  # the section reports every variant
    assert main([*f"study reproduce --runs {runs} {common}".split(), "--variants", "nope"]) == 2
    assert "reproduce has no variant nope" in capsys.readouterr().err
    # choosing the control brings its DSP model along
    command = f"study reproduce --runs {tmp_path / 'other'} {common}"
    assert main([*command.split(), "--variants", "LITE (uniform width of DSP-LITE)"]) == 0
    assert capsys.readouterr().out.startswith("2 jobs done, 0 failed")


def test_dev_by_cost_is_the_dev_suite_reordered():
    assert sorted(DEV_BY_COST) == sorted(DEV) and len(set(DEV_BY_COST)) == 60
    assert SUITES["dev-by-cost"] == DEV_BY_COST
    assert DEV_BY_COST[:3] == ("Chinatown", "SonyAIBORobotSurface1", "ItalyPowerDemand")
