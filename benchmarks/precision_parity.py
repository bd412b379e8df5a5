"""Accuracy parity of fp32 and ``precision="auto"`` (bf16 where native) at the cpu study budget.

LITE and DSP-LITE (300 epochs per phase) and DSN (100 epochs) train on the 10 datasets of the
``cpu`` study budget and 10 more dev sets, once in fp32 and once with ``precision="auto"``,
each precision in its own resumable runs directory (a sweep refuses to mix precisions).
Then, per model, W/T/L of auto against fp32, the Wilcoxon signed-rank p over the datasets
and the difference of mean accuracy (``sparsetsc.report``). Parity: p > 0.05 and
|difference| <= 0.5 points. Official split; the model seed is 0 on every dataset
(``--seed-policy resample``, as the docs' table on Training speed and precision was made)
unless ``--seed-policy dataset``.

    python benchmarks/precision_parity.py --data-root /path/to/UCRArchive_2018 --n-jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sparsetsc.bench import SEED_POLICIES, plan_sweep, run_sweep
from sparsetsc.bench.studies import CPU_UCR
from sparsetsc.report import accuracy_table, load_runs, markdown, pairwise_table

#: The 10 dev sets outside the cpu budget with the fewest training cases x time points
#: (ties by name): chosen by size, never by accuracy.
MORE_DEV = (
    "Chinatown",
    "SmoothSubspace",
    "BME",
    "UMD",
    "FaceFour",
    "ArrowHead",
    "ECG200",
    "ShapeletSim",
    "InsectEPGSmallTrain",
    "BeetleFly",
)
#: Model keys and their epoch budgets (the cpu study budgets).
BUDGETS = {"lite": 300, "dsp-lite": 300, "dsn": 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="archive folder of the UCR-2018 datasets")
    parser.add_argument("--runs", default="runs/precision-parity", help="results directory")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seed-policy", choices=SEED_POLICIES, default="resample")
    args = parser.parse_args()
    datasets = list(CPU_UCR) + list(MORE_DEV)
    tables = {}
    for precision in ("fp32", "auto"):
        for model, epochs in BUDGETS.items():
            runs = Path(args.runs) / f"{precision}-{epochs}-epochs"
            plan = plan_sweep(
                [model],
                datasets,
                [0],
                runs,
                epochs=epochs,
                precision=precision,
                data_root=args.data_root,
                seed_policy=args.seed_policy,
            )
            run_sweep(plan, data_root=args.data_root, n_jobs=args.n_jobs)
        for epochs in set(BUDGETS.values()):
            results, _, _ = load_runs(Path(args.runs) / f"{precision}-{epochs}-epochs")
            tables[precision, epochs] = accuracy_table(results)
    rows, per_dataset = [], {}
    for model, epochs in BUDGETS.items():
        name = {"lite": "LITE", "dsp-lite": "DSP-LITE", "dsn": "DSN"}[model]
        both = pd.DataFrame(
            {
                f"{name} auto": tables["auto", epochs][name],
                f"{name} fp32": tables["fp32", epochs][name],
            }
        ).reindex(datasets)
        per_dataset[name] = both
        pair = pairwise_table(both).iloc[0]
        difference = both.iloc[:, 0].mean() - both.iloc[:, 1].mean()
        rows.append(
            {
                "model": name,
                "epochs": epochs,
                "datasets": int(pair["datasets"]),
                "mean fp32": both.iloc[:, 1].mean(),
                "mean auto": both.iloc[:, 0].mean(),
                "difference (points)": 100 * difference,
                "W/T/L auto vs fp32": f"{pair['wins']}/{pair['ties']}/{pair['losses']}",
                "Wilcoxon p": pair["wilcoxon p"],
                "parity": bool(pair["wilcoxon p"] > 0.05 and abs(100 * difference) <= 0.5),
            }
        )
    print(markdown(pd.DataFrame(rows).set_index("model")))
    print()
    print(markdown(pd.concat(per_dataset.values(), axis=1)))


if __name__ == "__main__":
    main()
