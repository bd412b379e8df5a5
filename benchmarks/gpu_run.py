"""One leased-GPU session: check CUDA, time training against our CPU, then sweep to a deadline.

    python benchmarks/gpu_run.py pack --archive PATH/TO/UCRArchive_2018
    python benchmarks/gpu_run.py run --device cuda --data .gpu/ucr-dev.tar.xz --out OUT \\
        --deadline 420 --n-jobs 4

``pack`` writes the datasets a run needs (the 60-set dev suite and FordA, the long set of
the timings) into one ``tar.xz`` inside the repository's ignored ``.gpu/``, so that it can
travel to a machine that has no copy of the archive and no network. ``run`` unpacks it
(into ``--data-root``, once) and does, in order, the phases named in ``--phases``:

* ``check``: ``benchmarks/gpu_check.py`` (every model in fp32 and bf16, predictions on the
  device against the same weights on CPU) and the tests marked ``cuda``, each in its own
  process, their output in ``OUT/check.txt``;
* ``speed``: median epoch times of LITE, Inception and DSN on GunPoint and FordA (its first
  1000 training cases), LITETime and InceptionTime with members one after the other and
  batched, and the epochs per second of 1, 4 and 8 processes training at once on the device
  (whether several sweep workers pay), in ``OUT/speed.json``; with ``--cpu-baseline`` (the
  ``speed.json`` of a run with ``--device cpu`` on our 2-core machine,
  ``benchmarks/gpu_run_cpu.json``) the table gives the speed-up over it;
* ``sweep``: ``sparsetsc study reproduce --budget full`` for InceptionTime,
  DSP-InceptionTime and the authors' uniform InceptionTime of 8 filters per branch (5-member
  ensembles, each member a job of its own, the first being the single Inception /
  DSP-Inception job; an ensemble's result is written when its last member lands), dataset by
  dataset over the dev suite cheapest first, into ``--runs``. No job
  starts after ``--deadline`` seconds (counted from this script's start); a job still
  running when the machine's time runs out is killed without leaving a result file (the
  store writes atomically). Each finished result file is added to ``OUT/results.tar`` as it
  lands (rewritten atomically, at most 16 MiB, then ``results-2.tar``), so a run cut off
  brings back everything it finished; ``OUT/sweep.json`` lists every job's outcome and time.

The library does the work (``sparsetsc.bench``: the ``reproduce`` study, ``plan_sweep`` /
``run_sweep`` with a deadline, ``speed``, ``ResultsTar``); this script strings it together.
The device commands and their sizing are in ``benchmarks/GPU_RUN.md``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The variants of the ``reproduce`` study this run sweeps (all 5-member ensembles).
SWEEP_VARIANTS = "InceptionTime,DSP-InceptionTime,InceptionTime (8 filters per branch)"
#: The long dataset of the timings; the sweep's datasets are the dev suite.
LONG_DATASET = "FordA"
DEFAULT_PACK = ".gpu/ucr-dev.tar.xz"
#: ``speed.json`` of ``run --device cpu --phases speed --workers ''`` on our 2-core machine.
CPU_BASELINE = REPO / "benchmarks" / "gpu_run_cpu.json"
PACKAGES = ("torch", "numpy", "numba", "pandas", "scikit-learn", "scipy", "aeon", "torch-pruning")


# ---------------------------------------------------------------------- data
def pack(archive: Path, datasets: list[str], out: Path) -> None:
    """Write ``<Name>/<Name>_{TRAIN,TEST}.tsv`` of each dataset under ``archive`` into ``out``."""
    missing = [name for name in datasets if not (archive / name).is_dir()]
    if missing:
        raise SystemExit(f"not in {archive}: {', '.join(missing)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".tmp-{out.name}")
    # preset 9: the pack travels inside a 64 MiB limit; it is made once.
    with tarfile.open(temporary, "w:xz", preset=9) as tar:
        for name in datasets:
            for split in ("TRAIN", "TEST"):
                path = archive / name / f"{name}_{split}.tsv"
                tar.add(path, arcname=f"{name}/{path.name}")
    os.replace(temporary, out)
    print(f"{out}: {len(datasets)} datasets, {out.stat().st_size / 2**20:.1f} MiB")


def unpack(data: Path, root: Path) -> None:
    """Extract the pack ``data`` into ``root`` unless a previous run already did."""
    done = root / f".unpacked-{data.name}"
    if done.exists():
        return
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(data) as tar:
        tar.extractall(root, filter="data")
    done.touch()
    print(f"unpacked {data} into {root} in {time.perf_counter() - started:.1f} s", flush=True)


# ---------------------------------------------------------------------- helpers
def _environment(device: str) -> dict[str, Any]:
    """Versions and machine, printed first: what the run's figures came from."""
    import torch

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    from sparsetsc.bench.jobs import cpu_model, device_record

    on_cuda = device.startswith("cuda")
    return {
        "python": platform.python_version(),
        "packages": versions,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "device": device,
        **(device_record(device) if not on_cuda or torch.cuda.is_available() else {}),
    }


def _write_json(path: Path, value: Any) -> None:
    from sparsetsc.bench.store import write_atomic

    write_atomic(path, json.dumps(value, indent=1) + "\n")


def _named_epochs(spec: str, default: int) -> list[tuple[str, int]]:
    """``"GunPoint:10,FordA:3"`` -> ``[("GunPoint", 10), ("FordA", 3)]``."""
    pairs = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            name, _, epochs = item.partition(":")
            pairs.append((name, int(epochs) if epochs else default))
    return pairs


def _names(spec: str) -> list[str]:
    return [part.strip() for part in spec.split(",") if part.strip()]


# ---------------------------------------------------------------------- (a) check
def check(args: argparse.Namespace, out: Path) -> dict[str, int]:
    """Run gpu_check.py and the ``cuda`` tests, each in a process of its own (a crash on
    the device must not end the run); their output goes to ``out/check.txt``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    commands = {
        "gpu_check": [
            sys.executable,
            str(REPO / "benchmarks" / "gpu_check.py"),
            "--device",
            args.device,
            "--models",
            args.check_models,
        ],
        "pytest_cuda": [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "cuda",
            str(REPO / "tests" / "test_cuda.py"),
            "-q",
            "-p",
            "no:cacheprovider",
        ],
    }
    codes = {}
    with open(out / "check.txt", "a") as log:
        for name, command in commands.items():
            started = time.perf_counter()
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            try:
                done = subprocess.run(
                    command,
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=args.check_timeout,
                )
                codes[name], text = done.returncode, done.stdout
            except subprocess.TimeoutExpired as err:
                codes[name] = -1
                text = err.stdout or ""  # bytes, even with text=True, on some Pythons
                text = text.decode(errors="replace") if isinstance(text, bytes) else text
                text += f"\n(stopped after {args.check_timeout} s)\n"
            log.write(text + f"(exit status {codes[name]})\n\n")
            log.flush()
            print(text, flush=True)
            print(
                f"{name}: exit status {codes[name]} in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    return codes


# ---------------------------------------------------------------------- (b) speed
def speed(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Epoch times, ensembles one after the other against batched, workers at once; each
    measurement is added to ``out/speed.json`` as soon as it is taken."""
    from sparsetsc.bench.speed import (
        concurrent_throughput,
        ensemble_time,
        epoch_time,
        load_speed_data,
    )

    record: dict[str, Any] = {
        "environment": _environment(args.device),
        "max_cases": args.speed_max_cases,
        "epochs": [],
        "ensembles": [],
        "throughput": [],
    }
    data_root = str(args.data_root) if args.data_root else None

    def data(dataset: str):
        return load_speed_data(dataset, data_root, args.speed_max_cases)

    for dataset, epochs in _named_epochs(args.speed_datasets, 8):
        X, y = data(dataset)
        for model in _names(args.speed_models):
            for precision in _names(args.precisions):
                measured = epoch_time(
                    model,
                    X,
                    y,
                    device=args.device,
                    precision=precision,
                    epochs=epochs,
                    dataset=dataset,
                )
                record["epochs"].append(measured.as_dict())
                _write_json(out / "speed.json", record)
                print(
                    f"{model} {dataset} {precision}: {1000 * measured.median_seconds:.1f} ms "
                    f"per epoch (first {1000 * measured.first_seconds:.0f} ms)",
                    flush=True,
                )
    for dataset, epochs in _named_epochs(args.ensemble_datasets, 10):
        X, y = data(dataset)
        for model in _names(args.ensembles):
            # A short fit of each kind first: one-time set-up lands on neither timing.
            for batched in (False, True):
                ensemble_time(
                    model, X, y, batched=batched, device=args.device, epochs=2, n_members=2
                )
            for batched in (False, True):
                seconds = ensemble_time(
                    model,
                    X,
                    y,
                    batched=batched,
                    device=args.device,
                    epochs=epochs,
                    n_members=args.members,
                )
                record["ensembles"].append(
                    {
                        "model": model,
                        "dataset": dataset,
                        "batched": batched,
                        "epochs": epochs,
                        "members": args.members,
                        "seconds": seconds,
                    }
                )
                _write_json(out / "speed.json", record)
                how = "batched" if batched else "one after the other"
                print(f"{model} x{args.members} {dataset} {how}: {seconds:.2f} s", flush=True)
    for workers in (int(w) for w in _names(args.workers)):
        measured = concurrent_throughput(
            args.throughput_model,
            args.throughput_dataset,
            workers,
            data_root=data_root,
            max_cases=args.speed_max_cases,
            device=args.device,
            epochs=args.throughput_epochs,
        )
        record["throughput"].append(measured)
        _write_json(out / "speed.json", record)
        print(
            f"{workers} processes x {args.throughput_model}: "
            f"{measured['epochs_per_second']:.1f} epochs/s",
            flush=True,
        )
    baseline = json.loads(args.cpu_baseline.read_text()) if args.cpu_baseline else None
    print(speed_tables(record, baseline), flush=True)
    return record


def speed_tables(record: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """Markdown tables of a speed record, with the speed-up over ``baseline`` where it has
    the same measurement."""
    device = record["environment"].get("device_name") or record["environment"]["device"]
    base_name = baseline["environment"].get("device_name", "CPU") if baseline else None

    def key(entry: dict[str, Any], *names: str) -> tuple:
        return tuple(entry[name] for name in names)

    against = ""
    if baseline:
        against = f" against {base_name} ({baseline['environment']['cpu_count']} cores)"
    lines = [
        f"Median epoch time on {device}{against}, first {record['max_cases']} training "
        "cases at most:",
        "",
        "| model | dataset | precision | batch x steps | baseline | this device | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    base_epochs = {
        key(e, "model", "dataset", "precision"): e["median_seconds"]
        for e in (baseline or {}).get("epochs", [])
    }
    for entry in record["epochs"]:
        here = entry["median_seconds"]
        there = base_epochs.get(key(entry, "model", "dataset", "precision"))
        lines.append(
            f"| {entry['model']} | {entry['dataset']} | {entry['precision']} | "
            f"{entry['batch_size']} x {entry['steps_per_epoch']} | "
            f"{f'{1000 * there:.1f} ms' if there else '-'} | {1000 * here:.1f} ms | "
            f"{f'{there / here:.1f}x' if there else '-'} |"
        )
    if record["ensembles"]:
        lines += [
            "",
            "Ensemble fit, wall seconds (members one after the other, and batched):",
            "",
            "| ensemble | dataset | members x epochs | one after the other | batched "
            "| batched speed-up | baseline one after the other |",
            "|---|---|---|---|---|---|---|",
        ]
        times = {key(e, "model", "dataset", "batched"): e for e in record["ensembles"]}
        base = {
            key(e, "model", "dataset", "batched"): e["seconds"]
            for e in (baseline or {}).get("ensembles", [])
        }
        for (model, dataset, batched), entry in times.items():
            together = times.get((model, dataset, True))
            if batched or together is None:
                continue
            there = base.get((model, dataset, False))
            lines.append(
                f"| {model} | {dataset} | {entry['members']} x {entry['epochs']} | "
                f"{entry['seconds']:.2f} s | {together['seconds']:.2f} s | "
                f"{entry['seconds'] / together['seconds']:.2f}x | "
                f"{f'{there:.2f} s' if there else '-'} |"
            )
    if record["throughput"]:
        first = record["throughput"][0]
        lines += [
            "",
            f"{first['model']} on {first['dataset']}, processes training at once "
            f"({first['epochs']} epochs each):",
            "",
            "| processes | epochs per second | against 1 process |",
            "|---|---|---|",
        ]
        single = next((t for t in record["throughput"] if t["workers"] == 1), None)
        for entry in record["throughput"]:
            ratio = entry["epochs_per_second"] / single["epochs_per_second"] if single else None
            lines.append(
                f"| {entry['workers']} | {entry['epochs_per_second']:.1f} | "
                f"{f'{ratio:.2f}x' if ratio else '-'} |"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------------- (c) sweep
def sweep(
    args: argparse.Namespace, out: Path, started: float, deadline: float | None
) -> dict[str, Any]:
    """The reproduce study's InceptionTime rows, dataset by dataset, until ``deadline``
    (a ``time.time()``; ``started`` is the run's start, for the log's times)."""
    from sparsetsc.bench import plan_sweep, run_sweep
    from sparsetsc.bench.store import ResultsTar
    from sparsetsc.bench.studies import get_study
    from sparsetsc.bench.suites import resolve_datasets

    study = get_study("reproduce")
    budget = study.budgets["full"]
    runs = Path(args.runs)
    for previous in args.resume_from:  # results a previous call brought back
        with tarfile.open(previous) as tar:
            kept = [m for m in tar.getmembers() if not (runs / m.name).exists()]
            tar.extractall(runs, members=kept, filter="data")
        print(f"resumed {len(kept)} result files from {previous}", flush=True)
    datasets = resolve_datasets(args.datasets)
    plan = plan_sweep(
        study.chosen_variants(args.variants),
        datasets,
        range(budget.seeds),
        runs,
        epochs=args.epochs if args.epochs is not None else budget.sweep_epochs,
        device=args.device,
        data_root=str(args.data_root) if args.data_root else None,
        precision=budget.precision,
        seed_policy=budget.seed_policy,
        order="dataset",
    )
    print(
        f"sweep: {len(plan.to_run)} jobs to run, {len(plan.finished)} finished before, "
        f"{len(plan.failed_before)} failed before; {len(datasets)} datasets -> {runs}",
        flush=True,
    )
    shipped = ResultsTar(out, limit=args.tar_limit, max_parts=2)
    log: list[dict[str, Any]] = []

    def landed(outcome: Any) -> None:
        job = outcome.job
        path = job.result_path(runs) if outcome.status == "done" else job.failure_path(runs)
        if outcome.status != "skipped" and path.exists():
            shipped.add(path, path.relative_to(runs).as_posix())
        log.append(
            {
                "job": str(job),
                "status": outcome.status,
                "seconds": round(outcome.seconds, 1),
                "accuracy": outcome.accuracy,
                "error": outcome.error,
                "at": round(time.time() - started, 1),
            }
        )
        _write_json(out / "sweep.json", log)
        if outcome.status != "skipped":
            shown = f" accuracy {outcome.accuracy:.4f}" if outcome.accuracy is not None else ""
            shown += f" {outcome.error}" if outcome.error else ""
            print(
                f"[{time.time() - started:6.0f} s] {outcome.status} {job} in "
                f"{outcome.seconds:.0f} s{shown}",
                flush=True,
            )

    def combined(ensemble: Any) -> None:
        path = ensemble.result_path(runs)
        shipped.add(path, path.relative_to(runs).as_posix())
        print(f"[{time.time() - started:6.0f} s] wrote {ensemble} from its members", flush=True)

    summary = run_sweep(
        plan,
        data_root=str(args.data_root) if args.data_root else None,
        n_jobs=args.n_jobs,
        progress=False,
        deadline=deadline,
        on_outcome=landed,
        on_combined=combined,
    )
    done = len(summary.outcomes) - len(summary.failed) - len(summary.skipped)
    print(
        f"sweep: {done} done, {len(summary.failed)} failed, {len(summary.skipped)} not started "
        f"(deadline), {len(summary.combined)} ensembles written from their members in "
        f"{summary.seconds:.0f} s; {len(shipped.added)} files in {out}",
        flush=True,
    )
    return {
        "done": done,
        "failed": len(summary.failed),
        "skipped": len(summary.skipped),
        "seconds": summary.seconds,
    }


# ---------------------------------------------------------------------- main
def run(args: argparse.Namespace) -> int:
    """The ``run`` command: the phases in order; the exit status says whether all passed."""
    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.data:
        unpack(Path(args.data), Path(args.data_root))
    deadline = started + args.deadline if args.deadline is not None else None
    summary: dict[str, Any] = {"environment": _environment(args.device), "phases": {}}
    print(json.dumps(summary["environment"]), flush=True)
    phases = _names(args.phases)
    status = 0
    for phase in phases:
        phase_started = time.time()
        if phase == "check":
            codes = check(args, out)
            summary["phases"]["check"] = codes
            status |= any(codes.values())
        elif phase == "speed":
            record = speed(args, out)
            counted = ("epochs", "ensembles", "throughput")
            summary["phases"]["speed"] = {"measurements": sum(len(record[k]) for k in counted)}
        elif phase == "sweep":
            result = sweep(args, out, started, deadline)
            summary["phases"]["sweep"] = result
            status |= bool(result["failed"])
        else:
            raise SystemExit(f"unknown phase {phase!r}; the phases are check, speed, sweep")
        summary["phases"][phase]["seconds"] = round(time.time() - phase_started, 1)
        _write_json(out / "summary.json", summary)
        print(f"phase {phase} took {time.time() - phase_started:.0f} s", flush=True)
    return int(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    packing = commands.add_parser("pack", help="pack the datasets a run needs")
    packing.add_argument("--archive", type=Path, required=True, help="the UCR-2018 folder")
    packing.add_argument("--datasets", default=f"dev,{LONG_DATASET}")
    packing.add_argument("--out", type=Path, default=REPO / DEFAULT_PACK)

    running = commands.add_parser("run", help="check, time and sweep on a device")
    running.add_argument("--device", default="cuda")
    running.add_argument("--out", required=True, help="folder of what comes back ($OUT)")
    running.add_argument("--phases", default="check,speed,sweep")
    running.add_argument("--data", help="a pack made by `pack`, unpacked into --data-root")
    running.add_argument(
        "--data-root",
        type=Path,
        help="archive folder of the datasets (with --data: where it is unpacked, by default "
        "runs/gpu-data)",
    )
    running.add_argument(
        "--deadline",
        type=float,
        help="seconds after this script starts past which no sweep job starts",
    )
    # (a)
    running.add_argument("--check-models", default="fcn,lite,inception,dsn,dsp-lite,dsp-inception")
    running.add_argument("--check-timeout", type=float, default=300)
    # (b)
    running.add_argument("--speed-models", default="lite,inception,dsn")
    running.add_argument(
        "--speed-datasets",
        default=f"GunPoint:10,{LONG_DATASET}:3",
        help="NAME[:EPOCHS],... (epochs of each timing; the first is set-up)",
    )
    running.add_argument("--speed-max-cases", type=int, default=1000)
    running.add_argument("--precisions", default="fp32")
    running.add_argument("--ensembles", default="litetime,inceptiontime")
    running.add_argument("--ensemble-datasets", default="GunPoint:10")
    running.add_argument("--members", type=int, default=5)
    running.add_argument(
        "--workers", default="1,4,8", help="process counts timed at once ('' skips it)"
    )
    running.add_argument("--throughput-model", default="inception")
    running.add_argument("--throughput-dataset", default="GunPoint")
    running.add_argument("--throughput-epochs", type=int, default=200)
    running.add_argument(
        "--cpu-baseline",
        type=Path,
        default=CPU_BASELINE if CPU_BASELINE.is_file() else None,
        help="speed.json of a --device cpu run to compare with (default: our 2-core "
        "machine's, benchmarks/gpu_run_cpu.json)",
    )
    # (c)
    running.add_argument("--runs", default="runs/gpu-published-budget")
    running.add_argument("--datasets", default="dev-by-cost", help="suite or list, in order")
    running.add_argument("--variants", default=SWEEP_VARIANTS)
    running.add_argument(
        "--epochs", type=int, help="every model's epochs (tests); default the published ones"
    )
    running.add_argument("--n-jobs", type=int, default=1, help="sweep worker processes")
    running.add_argument(
        "--resume-from",
        type=Path,
        action="append",
        default=[],
        help="a results tar of an earlier run: its files are put into --runs first",
    )
    running.add_argument("--tar-limit", type=int, default=16 * 2**20, help="bytes per tar")
    args = parser.parse_args(argv)
    if args.command == "pack":
        from sparsetsc.bench.suites import resolve_datasets

        names = [n for part in _names(args.datasets) for n in resolve_datasets(part)]
        pack(args.archive, list(dict.fromkeys(names)), args.out)
        return 0
    if args.data and args.data_root is None:
        args.data_root = REPO / "runs" / "gpu-data"
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
