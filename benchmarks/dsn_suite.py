"""DSN over UCR datasets x seeds at an epoch budget, next to published accuracies.

Writes one CSV row per (dataset, variant, seed) -- accuracy, params, non-zero params, MACs
(sparse and dense), fit seconds -- appending as it goes so an interrupted run keeps its
rows, then prints a Markdown table of mean accuracy per dataset next to the published
Inception, InceptionTime and ROCKET accuracies of the same datasets (LITE repository table).

    python benchmarks/dsn_suite.py --data-root ../shared/data/UCRArchive_2018 \
        --datasets GunPoint,Coffee,ECG200 --seeds 2 --epochs 100 \
        --published ../shared/data/published/lite_repo_results_ucr128.csv \
        --ablations fix,gradient,groups1,dense --ablation-datasets GunPoint,Coffee

Model selection is by training loss only; test data is used once, for the reported accuracy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sparsetsc
from sparsetsc import DSNClassifier
from sparsetsc.cost import estimator_cost
from suite_common import markdown, run_resumable

VARIANTS = {
    "dsn": {},
    "fix": {"fix": True},
    "gradient": {"growth": "gradient"},
    "groups1": {"n_groups": 1, "match_groups": 3},
    "dense": {"dense": True},
}
FIELDS = [
    "dataset",
    "variant",
    "seed",
    "epochs",
    "accuracy",
    "params",
    "params_nonzero",
    "macs",
    "macs_dense",
    "fit_seconds",
]


def run_one(dataset: str, variant: str, seed: int, epochs: int, root: str | None) -> dict:
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test(dataset, root=root)
    clf = DSNClassifier(**VARIANTS[variant], n_epochs=epochs, random_state=seed, device="cpu")
    started = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    cost = estimator_cost(clf)
    return {
        "dataset": dataset,
        "variant": variant,
        "seed": seed,
        "epochs": epochs,
        "accuracy": float(np.mean(clf.predict(X_test) == y_test)),
        "params": cost.params,
        "params_nonzero": cost.params_nonzero,
        "macs": cost.macs,
        "macs_dense": cost.macs_dense,
        "fit_seconds": round(fit_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True, help="comma-separated dataset names")
    parser.add_argument("--data-root")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--ablations", default="", help="comma-separated: " + ",".join(VARIANTS))
    parser.add_argument("--ablation-datasets", default="")
    parser.add_argument("--published", help="lite_repo_results_ucr128.csv")
    parser.add_argument("--out", default="runs/dsn_suite.csv")
    args = parser.parse_args()

    datasets = args.datasets.split(",")
    jobs = [(d, "dsn", s) for d in datasets for s in range(args.seeds)]
    ablations = [a for a in args.ablations.split(",") if a]
    for dataset in [d for d in args.ablation_datasets.split(",") if d]:
        jobs += [(dataset, a, s) for a in ablations for s in range(args.seeds)]

    results = run_resumable(
        Path(args.out),
        FIELDS,
        [(dataset, variant, seed, args.epochs, args.data_root) for dataset, variant, seed in jobs],
        ("dataset", "variant", "seed", "epochs"),
        run_one,
    )
    results = results[results.epochs == args.epochs]
    table = results.pivot_table(index="dataset", columns="variant", values="accuracy")
    main_table = table.loc[datasets, ["dsn"]]
    if args.published:
        published = pd.read_csv(args.published).set_index("dataset")
        for column in ("Inception", "InceptionTime", "ROCKET"):
            main_table[f"{column} (published)"] = published[column].reindex(main_table.index)
    main_table.loc["mean"] = main_table.mean()
    print(f"\nDSN, mean test accuracy over seeds 0..{args.seeds - 1}, {args.epochs} epochs\n")
    print(markdown(main_table))
    ablation_datasets = [d for d in args.ablation_datasets.split(",") if d]
    if ablation_datasets and ablations:
        ablation_table = table.loc[ablation_datasets, ["dsn", *ablations]]
        ablation_table.loc["mean"] = ablation_table.mean()
        print("\nAblations (same datasets, seeds and epochs)\n")
        print(markdown(ablation_table))
    costs = results.groupby(["dataset", "variant"])[
        ["params_nonzero", "macs", "macs_dense", "fit_seconds"]
    ].mean()
    print("\n" + markdown(costs.loc[ablation_datasets or datasets[:1]]))


if __name__ == "__main__":
    main()
