"""LITE, LITETime, InceptionTime (and H-InceptionTime) over UCR datasets, next to published numbers.

Writes one CSV row per (dataset, model, seed) -- accuracy, params, trainable params, MACs,
fit seconds -- appending as it goes (an interrupted run keeps its rows and a rerun resumes),
then prints a Markdown table of mean accuracy per dataset next to the published LITE,
LITETime, Inception and InceptionTime accuracies (LITE repository table, 128 UCR datasets).

    python benchmarks/backbone_suite.py --data-root ../shared/data/UCRArchive_2018 \
        --datasets GunPoint,Coffee,ECG200 --models lite,litetime,inceptiontime \
        --epochs 200 --seeds 1 \
        --published ../shared/data/published/lite_repo_results_ucr128.csv

The published numbers come from 1500 epochs; a smaller ``--epochs`` budget is stated in the
table's caption. Checkpoints are selected by training loss only; the test split is used once,
for the reported accuracy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import sparsetsc
from sparsetsc.cost import estimator_cost
from sparsetsc.estimators import MODELS
from suite_common import markdown, run_resumable

FIELDS = [
    "dataset",
    "model",
    "seed",
    "epochs",
    "accuracy",
    "params",
    "params_trainable",
    "macs",
    "fit_seconds",
]
#: Published columns of the LITE repository table next to each of our models.
PUBLISHED = {
    "lite": "LITE",
    "litetime": "LITETime",
    "inception": "Inception",
    "inceptiontime": "InceptionTime",
}


def run_one(dataset: str, model: str, seed: int, epochs: int, root: str | None) -> dict:
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test(dataset, root=root)
    clf = MODELS[model](n_epochs=epochs, random_state=seed, device="cpu")
    started = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    cost = estimator_cost(clf)
    return {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "epochs": epochs,
        "accuracy": float(np.mean(clf.predict(X_test) == y_test)),
        "params": cost.params,
        "params_trainable": cost.params_trainable,
        "macs": cost.macs,
        "fit_seconds": round(fit_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True, help="comma-separated dataset names")
    parser.add_argument("--models", default="lite,litetime,inceptiontime")
    parser.add_argument("--data-root")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--published", help="lite_repo_results_ucr128.csv")
    parser.add_argument("--out", default="runs/backbone_suite.csv")
    args = parser.parse_args()
    datasets, models = args.datasets.split(","), args.models.split(",")
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {sorted(MODELS)}")

    jobs = [
        (d, m, s, args.epochs, args.data_root)
        for d in datasets
        for m in models
        for s in range(args.seeds)
    ]
    results = run_resumable(
        Path(args.out), FIELDS, jobs, ("dataset", "model", "seed", "epochs"), run_one
    )
    results = results[(results.epochs == args.epochs) & results.dataset.isin(datasets)]
    table = results.pivot_table(index="dataset", columns="model", values="accuracy")
    table = table.reindex(index=datasets, columns=models)
    if args.published:
        import pandas as pd

        published = pd.read_csv(args.published).set_index("dataset")
        for model in models:
            if model in PUBLISHED:
                table[f"{PUBLISHED[model]} (published)"] = published[PUBLISHED[model]].reindex(
                    table.index
                )
    table.loc["mean"] = table.mean()
    print(
        f"\nMean test accuracy over seeds 0..{args.seeds - 1}, {args.epochs} epochs "
        "(published: 1500 epochs; ensembles of 5)\n"
    )
    print(markdown(table))
    costs = results.groupby("model")[["params", "params_trainable", "macs", "fit_seconds"]].mean()
    print("\nMean cost per model (over datasets and seeds)\n")
    print(markdown(costs.reindex(models)))


if __name__ == "__main__":
    main()
