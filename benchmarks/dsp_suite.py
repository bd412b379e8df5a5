"""DSP against its base ensemble and a uniform-width control of the same size, over UCR datasets.

For each (dataset, seed) three ensembles of ``--members`` networks are trained with the same
epoch budget: the base (LITETime or InceptionTime), DSP (sparsity training, pruning,
recovery from scratch) and the honesty control (the same backbone with a uniform width
matched to the DSP members' mean trainable parameter count). Each row of the CSV holds
accuracy, parameters, MACs, compression against the base, and the measured CPU inference
latency of the ensemble at batch 1 and 64. The summary gives mean compression, W/T/L and the
Wilcoxon signed-rank p-value of DSP against the base and against the control. A second CSV
(``*_redundancy.csv``) holds, per stage, the redundancy of the first member's channels
(pairwise mutual information, effective rank, 95 % energy; ``sparsetsc.prune.redundancy``) on
up to ``REDUNDANCY_INSTANCES`` training series, for the three models: before and after pruning.

    python benchmarks/dsp_suite.py --data-root ../shared/data/UCRArchive_2018 \
        --datasets GunPoint,Coffee,ECG200 --backbone lite --epochs 300 --members 5

Checkpoints are selected by training loss only; the test split is used once, for accuracy.
The published figures (1500 epochs): 58 % mean compression for LITETime and 74.5 % for
InceptionTime, at accuracy parity.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

import sparsetsc
from sparsetsc.cost import estimator_cost, measure_latency
from sparsetsc.estimators import (
    DSPInceptionTimeClassifier,
    DSPLITETimeClassifier,
    InceptionTimeClassifier,
    LITETimeClassifier,
)
from sparsetsc.nn import LITE, Inception, InceptionConfig, LITEConfig
from sparsetsc.prune import matched_uniform_width, redundancy, stage_width, stages_of
from suite_common import append_rows, markdown

FIELDS = [
    "dataset",
    "backbone",
    "model",
    "seed",
    "epochs",
    "accuracy",
    "params",
    "params_trainable",
    "macs",
    "compression",
    "width",
    "latency_b1_ms",
    "latency_b64_ms",
    "fit_seconds",
]
BASE = {"lite": LITETimeClassifier, "inception": InceptionTimeClassifier}
DSP = {"lite": DSPLITETimeClassifier, "inception": DSPInceptionTimeClassifier}
REDUNDANCY_FIELDS = [
    "dataset",
    "backbone",
    "model",
    "seed",
    "epochs",
    "stage",
    "stage_index",
    "width",
    "mutual_information",
    "effective_rank",
    "energy95",
]
#: Training series the redundancy is averaged over (its mutual information is quadratic in width).
REDUNDANCY_INSTANCES = 100


def _latency_ms(ensemble, n_channels: int, n_timepoints: int, batch_size: int) -> float:
    # The members run one after the other: the ensemble's latency is their sum.
    return 1000 * sum(
        measure_latency(m.network_, n_channels, n_timepoints, batch_size, repeats=20)["median"]
        for m in ensemble.estimators_
    )


def _row(
    dataset, backbone, model, seed, epochs, clf, X_test, y_test, seconds, base_params, width
) -> dict:
    cost = estimator_cost(clf)
    n_channels, n_timepoints = X_test.shape[1], X_test.shape[2]
    return {
        "dataset": dataset,
        "backbone": backbone,
        "model": model,
        "seed": seed,
        "epochs": epochs,
        "accuracy": float(np.mean(clf.predict(X_test) == y_test)),
        "params": cost.params,
        "params_trainable": cost.params_trainable,
        "macs": cost.macs,
        "compression": 1 - cost.params_trainable / base_params if base_params else 0.0,
        "width": width,
        "latency_b1_ms": round(_latency_ms(clf, n_channels, n_timepoints, 1), 3),
        "latency_b64_ms": round(_latency_ms(clf, n_channels, n_timepoints, 64), 3),
        "fit_seconds": round(seconds, 2),
    }


def _redundancy_rows(dataset, backbone, model, seed, epochs, clf, X_train) -> list[dict]:
    network = clf.estimators_[0].network_
    X = clf.estimators_[0]._prepare(X_train[:REDUNDANCY_INSTANCES])
    stages = stages_of(network)
    measured = redundancy(network, X, stages)
    return [
        {
            "dataset": dataset,
            "backbone": backbone,
            "model": model,
            "seed": seed,
            "epochs": epochs,
            "stage": stage.output,
            "stage_index": index,
            "width": stage_width(network.get_submodule(stage.root)),
            **{k: round(v, 5) for k, v in measured[stage.output].items()},
        }
        for index, stage in enumerate(stages)
    ]


def run_dataset(
    dataset: str, backbone: str, seed: int, epochs: int, members: int, root: str | None
) -> tuple[list[dict], list[dict]]:
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test(dataset, root=root)
    common = {"n_members": members, "n_epochs": epochs, "random_state": seed, "device": "cpu"}
    rows, redundancy_rows = [], []
    started = time.perf_counter()
    base = BASE[backbone](**common).fit(X_train, y_train)
    base_seconds = time.perf_counter() - started
    base_params = estimator_cost(base).params_trainable
    started = time.perf_counter()
    dsp = DSP[backbone](**common).fit(X_train, y_train)
    dsp_seconds = time.perf_counter() - started
    target = np.mean([m.pruned_cost_["params_trainable"] for m in dsp.estimators_])
    n_channels, n_classes = X_train.shape[1], len(np.unique(y_train))

    def build(width: int):
        if backbone == "lite":
            return LITE(LITEConfig(n_channels, n_classes, n_filters=width))
        return Inception(InceptionConfig(n_channels, n_classes, n_filters=width))

    width = matched_uniform_width(build, int(round(target)), 32)
    started = time.perf_counter()
    uniform = BASE[backbone](**common, n_filters=width).fit(X_train, y_train)
    uniform_seconds = time.perf_counter() - started
    runs = (
        ("base", base, base_seconds, 32),
        ("dsp", dsp, dsp_seconds, -1),
        ("uniform", uniform, uniform_seconds, width),
    )
    for model, clf, seconds, model_width in runs:
        rows.append(
            _row(
                dataset,
                backbone,
                model,
                seed,
                epochs,
                clf,
                X_test,
                y_test,
                seconds,
                base_params,
                model_width,
            )
        )
        redundancy_rows += _redundancy_rows(dataset, backbone, model, seed, epochs, clf, X_train)
    return rows, redundancy_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True, help="comma-separated dataset names")
    parser.add_argument("--backbone", choices=sorted(BASE), default="lite")
    parser.add_argument("--data-root")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--out", default="runs/dsp_suite.csv")
    args = parser.parse_args()
    datasets = args.datasets.split(",")

    out = Path(args.out)
    redundancy_out = out.with_name(out.stem + "_redundancy.csv")
    for dataset in datasets:
        for seed in range(args.seeds):
            previous = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=FIELDS)
            done = (
                (previous.dataset == dataset)
                & (previous.backbone == args.backbone)
                & (previous.seed == seed)
                & (previous.epochs == args.epochs)
            ).any()
            if done:  # resumable: each (dataset, seed) is written once, all three models
                continue
            rows, redundancy_rows = run_dataset(
                dataset, args.backbone, seed, args.epochs, args.members, args.data_root
            )
            append_rows(redundancy_out, REDUNDANCY_FIELDS, redundancy_rows)
            append_rows(out, FIELDS, rows)
            for row in rows:
                print(row, flush=True)
    results = pd.read_csv(out)
    results = results[
        (results.backbone == args.backbone)
        & (results.epochs == args.epochs)
        & results.dataset.isin(datasets)
    ]
    accuracy = results.pivot_table(index="dataset", columns="model", values="accuracy")
    table = accuracy.reindex(index=datasets, columns=["base", "dsp", "uniform"])
    table["dsp compression"] = (
        results[results.model == "dsp"].groupby("dataset")["compression"].mean().reindex(datasets)
    )
    table["uniform width"] = (
        results[results.model == "uniform"].groupby("dataset")["width"].mean().reindex(datasets)
    )
    table.loc["mean"] = table.mean()
    print(
        f"\n{args.backbone}, {args.members} members, {args.epochs} epochs (sparsity training "
        f"and recovery each), seeds 0..{args.seeds - 1}\n"
    )
    print(markdown(table))
    summary = []
    for other in ("base", "uniform"):
        paired = accuracy[["dsp", other]].dropna()
        wins = int((paired.dsp > paired[other]).sum())
        ties = int((paired.dsp == paired[other]).sum())
        losses = int((paired.dsp < paired[other]).sum())
        differences = paired.dsp - paired[other]
        p = wilcoxon(differences).pvalue if (differences != 0).any() else 1.0
        summary.append({"DSP vs": other, "W/T/L": f"{wins}/{ties}/{losses}", "Wilcoxon p": p})
    print("\n" + markdown(pd.DataFrame(summary).set_index("DSP vs")))
    costs = results.groupby("model")[
        ["params_trainable", "macs", "latency_b1_ms", "latency_b64_ms", "fit_seconds"]
    ].mean()
    print("\nMean cost per ensemble (latency: CPU, median of 20 passes, members summed)\n")
    print(markdown(costs.reindex(["base", "dsp", "uniform"])))
    measures = pd.read_csv(redundancy_out)
    measures = measures[
        (measures.backbone == args.backbone)
        & (measures.epochs == args.epochs)
        & measures.dataset.isin(datasets)
    ]
    per_stage = measures.pivot_table(
        index="stage_index",
        columns="model",
        values=["width", "mutual_information", "effective_rank"],
        aggfunc="mean",
    )
    per_stage.columns = [f"{value} {model}" for value, model in per_stage.columns]
    print(
        f"\nRedundancy per stage, first member, mean over datasets and seeds (up to "
        f"{REDUNDANCY_INSTANCES} training series; lower mutual information and higher "
        f"effective rank: less redundant)\n"
    )
    print(markdown(per_stage))


if __name__ == "__main__":
    main()
