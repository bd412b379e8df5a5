"""Seed hygiene: a sweep's model seed depends on dataset and resample, is recorded, and the
report shows how much each model moves between resamples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sparsetsc
from sparsetsc.bench import job_seed, plan_sweep, read_result, run_sweep
from sparsetsc.bench.studies import STUDIES
from sparsetsc.cli import main
from sparsetsc.report import resample_spread

#: Tiny FCN whose learning rate is far below float32 resolution of its weights: after a fit
#: the saved weights are the initial ones, so two saved models compare their initialisations.
FROZEN_FCN = {"n_filters": (4,), "kernel_sizes": (3,), "lr": 1e-30, "lr_schedule": "constant"}


def _initial_weights(runs, tiny_archive, seed_policy: str) -> dict[str, np.ndarray]:
    plan = plan_sweep(
        ["fcn"],
        ["TinyA", "TinyB"],  # same shape: 1 channel, 150 time points, 2 classes
        [0],
        runs,
        epochs=1,
        params={"fcn": FROZEN_FCN},
        data_root=str(tiny_archive),
        save_models=True,
        seed_policy=seed_policy,
    )
    run_sweep(plan, data_root=str(tiny_archive), progress=False)
    weights = {}
    for dataset in ("TinyA", "TinyB"):
        model = sparsetsc.load(runs / "FCN" / "Models" / dataset / "resample0")
        weights[dataset] = next(model.network_.parameters()).detach().numpy().copy()
    return weights


def test_job_seed_is_a_stable_hash_of_dataset_and_resample():
    # Fixed values: the same on every machine and Python (SHA-256, not the salted hash()).
    assert job_seed("GunPoint", 0) == 1294596921
    assert job_seed("GunPoint", 1) == 1132816324
    seeds = {job_seed(d, r) for d in ("TinyA", "TinyB", "GunPoint") for r in range(3)}
    assert len(seeds) == 9 and all(0 <= s < 2**31 for s in seeds)
    assert job_seed("GunPoint", 2, "resample") == 2
    with pytest.raises(ValueError, match="seed policy must be one of"):
        job_seed("GunPoint", 0, "model")


def test_same_shape_datasets_start_from_different_weights_and_a_rerun_repeats_them(
    tmp_path, tiny_archive
):
    first = _initial_weights(tmp_path / "first", tiny_archive, "dataset")
    assert first["TinyA"].shape == first["TinyB"].shape
    assert not np.array_equal(first["TinyA"], first["TinyB"])
    again = _initial_weights(tmp_path / "again", tiny_archive, "dataset")
    for dataset in first:
        np.testing.assert_array_equal(again[dataset], first[dataset])
    metadata = read_result(
        tmp_path / "first" / "FCN" / "Predictions" / "TinyB" / "testResample0.csv"
    ).metadata
    assert (metadata["seed"], metadata["seed_policy"]) == (job_seed("TinyB", 0), "dataset")
    # tsml-eval's random_state = resample: every dataset of a shape starts from one draw.
    shared = _initial_weights(tmp_path / "tsml", tiny_archive, "resample")
    np.testing.assert_array_equal(shared["TinyA"], shared["TinyB"])
    metadata = read_result(
        tmp_path / "tsml" / "FCN" / "Predictions" / "TinyB" / "testResample0.csv"
    ).metadata
    assert (metadata["seed"], metadata["seed_policy"]) == (0, "resample")
    # Results made with other seeds are another sweep's: refused, never mixed.
    with pytest.raises(ValueError, match=r"seed 0 \(seed policy resample\).*another runs"):
        plan_sweep(
            ["fcn"],
            ["TinyA"],
            [0],
            tmp_path / "tsml",
            epochs=1,
            params={"fcn": FROZEN_FCN},
            data_root=str(tiny_archive),
        )
    with pytest.raises(ValueError, match="seed policy must be one of"):
        plan_sweep(["fcn"], ["TinyA"], [0], tmp_path / "x", seed_policy="model", check_data=False)


def test_cli_seed_policy_and_fit_help(tmp_path, tiny_archive, capsys):
    runs = tmp_path / "runs"
    command = (
        f"bench --models fcn --datasets TinyA --epochs 1 --param fcn:n_filters=(4,) "
        f"--param fcn:kernel_sizes=(3,) --seed-policy resample --seeds 2 "
        f"--data-root {tiny_archive} --runs {runs} --quiet"
    )
    assert main(command.split()) == 0
    seeds = [
        read_result(runs / "FCN" / "Predictions" / "TinyA" / f"testResample{k}.csv").metadata[
            "seed"
        ]
        for k in (0, 1)
    ]
    assert seeds == [0, 1]
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    assert "one draw" in " ".join(capsys.readouterr().out.split())


def test_cpu_budgets_run_three_resamples():
    for study in STUDIES.values():
        assert study.budgets["cpu"].seeds == 3, study.name
        assert study.budgets["cpu"].seed_policy == "dataset"


def test_resample_spread_is_the_std_over_resamples():
    rows = [
        # model A: per-resample means over the two datasets 0.8, 0.9, 1.0
        ("A", "d1", 0, 0.7),
        ("A", "d2", 0, 0.9),
        ("A", "d1", 1, 0.9),
        ("A", "d2", 1, 0.9),
        ("A", "d1", 2, 1.0),
        ("A", "d2", 2, 1.0),
        ("B", "d1", 0, 0.5),  # one resample: no spread
        ("B", "d2", 0, 0.6),
    ]
    results = pd.DataFrame(rows, columns=["model", "dataset", "resample", "accuracy"])
    spread = resample_spread(results)
    assert spread.loc["A", "resamples"] == 3
    assert spread.loc["A", "std over resamples"] == pytest.approx(0.1)
    per_dataset = (np.std([0.7, 0.9, 1.0], ddof=1) + np.std([0.9, 0.9, 1.0], ddof=1)) / 2
    assert spread.loc["A", "mean per-dataset std"] == pytest.approx(per_dataset)
    assert spread.loc["B", "resamples"] == 1 and np.isnan(spread.loc["B", "std over resamples"])
    # Restricted to one dataset, the mean is that dataset's accuracy.
    only = resample_spread(results, ["d2"])
    assert only.loc["A", "std over resamples"] == pytest.approx(np.std([0.9, 0.9, 1.0], ddof=1))


def test_a_study_with_several_resamples_reports_their_spread_and_seed_policy(
    tmp_path, tiny_archive, capsys
):
    command = (
        f"study dsn-topology --datasets TinyA --seeds 2 --epochs 1 --quiet "
        f"--data-root {tiny_archive} --runs {tmp_path / 'runs'}"
    )
    assert main(command.split()) == 0
    section = capsys.readouterr().out
    assert "Model seeds: a stable hash of (dataset, resample)" in section
    header = next(line for line in section.splitlines() if line.startswith("| variant"))
    assert "std over resamples" in header and "mean per-dataset std" in header
    summary = pd.read_csv(tmp_path / "runs" / "studies" / "dsn-topology-cpu-summary.csv")
    assert (summary["resamples"] == 2).all()
    assert summary["std over resamples"].notna().all()
