"""Training speed: median epoch time of the library at a baseline revision and today, fp32 and bf16.

    python benchmarks/train_speed.py --data-root /path/to/UCRArchive_2018 --baseline-rev bc60db4

Every (model, dataset) pair trains the estimator with its published recipe (batch-size rule,
optimiser, schedule; ``sparsetsc.estimators.MODELS``) for a few epochs; a measurement is the
median epoch time after the first epoch (which pays for one-time set-up). Each measurement
runs in a fresh process, and the three variants alternate (baseline, fp32, bf16, baseline,
...) ``--repeats`` times, so that drift of a shared machine hits all alike; the table gives
the median over the repeats and the speed-ups of those medians. Run it alone on the machine.

The baseline is the library at ``--baseline-rev`` (checked out in a temporary git worktree and
imported from there; it must have the same estimators and ``history_[i]["seconds"]``), or the
medians of an earlier run saved with ``--save-baseline FILE`` and read with ``--baseline FILE``.
FordA is its first 1000 training cases.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MODELS = ("fcn", "lite", "inception", "dsn")
DATASETS = ("GunPoint", "Coffee", "ECG200", "Strawberry", "FordA")
#: Epochs per measurement: enough for a median after the warm-up epoch, few on big sets.
EPOCHS = {"Strawberry": 4, "FordA": 3}
FORDA_CASES = 1000


def _measure_here(model: str, dataset: str, precision: str | None, root: str | None) -> dict:
    """One measurement in this process (the worker): median epoch seconds after the first."""
    import sparsetsc
    from sparsetsc.estimators import MODELS as ESTIMATORS

    X, y, _, _ = sparsetsc.load_train_test(dataset, root=root)
    if dataset == "FordA":
        X, y = X[:FORDA_CASES], y[:FORDA_CASES]
    params = {"n_epochs": EPOCHS.get(dataset, 8), "random_state": 0, "device": "cpu"}
    estimator = ESTIMATORS[model](**params)
    if precision is not None:  # a baseline from before precision existed trains in fp32
        estimator.set_params(precision=precision)
    estimator.fit(X, y)
    seconds = [record["seconds"] for record in estimator.history_[1:]]
    steps = -(-len(X) // estimator.batch_size_)
    return {
        "epoch_seconds": statistics.median(seconds),
        "batch_size": estimator.batch_size_,
        "steps_per_epoch": steps,
    }


def _measure(model: str, dataset: str, variant: str, root: str | None, source: Path | None) -> dict:
    command = [sys.executable, __file__, "--worker", model, dataset, variant]
    if root:
        command += ["--data-root", root]
    env = dict(os.environ)
    if variant == "baseline":
        env["PYTHONPATH"] = str(source / "src")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{model} on {dataset} ({variant}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _worktree(revision: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="sparsetsc-baseline-"))
    repo = Path(__file__).resolve().parents[1]
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "--detach", str(folder), revision],
        check=True,
        capture_output=True,
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="archive folder of the UCR-2018 datasets")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precisions", default="fp32,bf16", help="today's variants to time (fp32, bf16 or both)"
    )
    parser.add_argument("--baseline-rev", help="git revision of the baseline (e.g. bc60db4)")
    parser.add_argument("--baseline", help="medians of an earlier run (--save-baseline FILE)")
    parser.add_argument("--save-baseline", help="write this run's baseline medians to FILE")
    parser.add_argument("--out", help="also write every measurement as JSON to FILE")
    parser.add_argument(
        "--worker", nargs=3, metavar=("MODEL", "DATASET", "VARIANT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        model, dataset, variant = args.worker
        precision = None if variant == "baseline" else variant
        print(json.dumps(_measure_here(model, dataset, precision, args.data_root)))
        return
    if bool(args.baseline_rev) == bool(args.baseline):
        parser.error("give exactly one of --baseline-rev and --baseline")
    models, datasets = args.models.split(","), args.datasets.split(",")
    saved = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    source = _worktree(args.baseline_rev) if args.baseline_rev else None
    precisions = args.precisions.split(",")
    if not precisions or not set(precisions) <= {"fp32", "bf16"}:
        parser.error(f"--precisions takes fp32, bf16 or fp32,bf16; got {args.precisions!r}")
    variants = (["baseline"] if saved is None else []) + precisions
    runs: dict[str, list[dict]] = {}
    try:
        for model in models:
            for dataset in datasets:
                key = f"{model}/{dataset}"
                for _ in range(args.repeats):
                    for variant in variants:
                        measured = _measure(model, dataset, variant, args.data_root, source)
                        runs.setdefault(f"{key}/{variant}", []).append(measured)
                        print(
                            key,
                            variant,
                            f"{1000 * measured['epoch_seconds']:.1f} ms",
                            file=sys.stderr,
                            flush=True,
                        )
    finally:
        if source is not None:
            repo = Path(__file__).resolve().parents[1]
            subprocess.run(
                ["git", "-C", str(repo), "worktree", "remove", "--force", str(source)],
                capture_output=True,
            )
    medians = {k: statistics.median(m["epoch_seconds"] for m in v) for k, v in runs.items()}
    baseline = saved or {
        k.removesuffix("/baseline"): v for k, v in medians.items() if k.endswith("/baseline")
    }
    if args.save_baseline:
        Path(args.save_baseline).write_text(json.dumps(baseline, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(runs, indent=1))
    print(
        f"Median epoch time (and optimizer steps per second) over {args.repeats} fresh "
        "processes each "
        f"(baseline {args.baseline_rev or args.baseline}):\n"
    )
    print(
        f"| model | dataset | batch x steps | baseline fp32 | {' | '.join(precisions)} | "
        + " | ".join(f"{p} speed-up" for p in precisions)
        + " |"
    )
    print("|---" * (4 + 2 * len(precisions)) + "|")
    for model in models:
        for dataset in datasets:
            key = f"{model}/{dataset}"
            base = baseline[key]
            today = [medians[f"{key}/{p}"] for p in precisions]
            first = runs[f"{key}/{precisions[0]}"][0]
            batch, steps = first["batch_size"], first["steps_per_epoch"]
            cells = [f"{1000 * t:.1f} ms ({steps / t:.0f}/s)" for t in (base, *today)]
            print(
                f"| {model} | {dataset} | {batch} x {steps} | {' | '.join(cells)} | "
                + " | ".join(f"{base / t:.2f}x" for t in today)
                + " |"
            )


if __name__ == "__main__":
    main()
