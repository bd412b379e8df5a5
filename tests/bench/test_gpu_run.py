"""benchmarks/gpu_run.py on CPU with tiny budgets: the pack travels, the sweep ships its
results as they land and stops at its deadline, the timings and the checks come back."""

from __future__ import annotations

import importlib.util
import json
import tarfile
from pathlib import Path

import pytest

from sparsetsc.bench import read_result
from sparsetsc.bench.jobs import cpu_model
from sparsetsc.bench.studies import UNIFORM_INCEPTIONTIME_8
from sparsetsc.bench.suites import DEV_BY_COST

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_run.py"
VARIANTS = ("InceptionTime", "DSP-InceptionTime", UNIFORM_INCEPTIONTIME_8)
#: Each ensemble's member jobs: the first is the single model's job.
MEMBERS = {
    "InceptionTime": "Inception",
    "DSP-InceptionTime": "DSP-Inception",
    UNIFORM_INCEPTIONTIME_8: "Inception (8 filters per branch)",
}


def _member_folders(variant: str) -> list[str]:
    single = MEMBERS[variant]
    return [single, *(f"{single} (member {k})" for k in range(2, 6))]


@pytest.fixture(scope="module")
def gpu_run():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ is not part of this installation")
    spec = importlib.util.spec_from_file_location("gpu_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(gpu_run, out, options: str) -> int:
    """``gpu_run.py run --device cpu --out OUT`` with ``options`` (no spaces in any value)."""
    return gpu_run.main(["run", "--device", "cpu", "--out", str(out), *options.split()])


def test_sweep_unpacks_its_data_ships_each_result_and_stops_at_the_deadline(
    gpu_run, tiny_archive, tmp_path, capsys
):
    pack = tmp_path / "pack.tar.xz"
    options = f"pack --archive {tiny_archive} --datasets TinyA,TinyB --out {pack}"
    assert gpu_run.main(options.split()) == 0
    runs, out, data = tmp_path / "runs", tmp_path / "out", tmp_path / "data"
    sweep = f"--phases sweep --data {pack} --data-root {data} --runs {runs} --epochs 1"
    assert _run(gpu_run, out, f"{sweep} --datasets TinyA") == 0
    assert (data / "TinyB" / "TinyB_TEST.tsv").is_file()  # the whole pack was unpacked
    # Each ensemble's five members, then the ensemble written from them, in the study's order.
    folders = [f for v in VARIANTS for f in (*_member_folders(v), v)]
    names = [f"{folder}/Predictions/TinyA/testResample0.csv" for folder in folders]
    with tarfile.open(out / "results.tar") as tar:
        assert tar.getnames() == names
        tar.extractall(tmp_path / "back", filter="data")
    back = tmp_path / "back"
    results = {v: read_result(back / v / "Predictions/TinyA/testResample0.csv") for v in VARIANTS}
    for variant, result in results.items():
        meta = result.metadata
        assert meta["member_labels"] == _member_folders(variant) and meta["epochs"] == 1
        assert meta["estimator"] in ("InceptionClassifier", "DSPClassifier")
        assert meta["device"] == "cpu" and meta["cpu"] == cpu_model()
    member = read_result(back / "Inception (member 2)/Predictions/TinyA/testResample0.csv")
    assert member.metadata["device_resolved"] == "cpu" and member.metadata["member"] == 1
    assert results[UNIFORM_INCEPTIONTIME_8].metadata["params_override"] == {"n_filters": 8}
    assert results["DSP-InceptionTime"].metadata["fitted"]["compression_"]["trainable"] > 0
    log = json.loads((out / "sweep.json").read_text())
    assert [entry["status"] for entry in log] == ["done"] * 15
    # past its deadline the sweep starts nothing: TinyB is left for the next run
    capsys.readouterr()
    assert _run(gpu_run, out, f"{sweep} --datasets TinyA,TinyB --deadline 0") == 0
    assert "0 done, 0 failed, 15 not started (deadline)" in capsys.readouterr().out
    assert not (runs / "InceptionTime" / "Predictions" / "TinyB").exists()
    assert [e["status"] for e in json.loads((out / "sweep.json").read_text())] == ["skipped"] * 15
    # a fresh runs folder resumes from the tar a previous call brought back
    resumed = f"--phases sweep --data-root {data} --runs {tmp_path / 'resumed'} --epochs 1"
    resumed += f" --datasets TinyA --resume-from {out / 'results.tar'}"
    assert _run(gpu_run, tmp_path / "out2", resumed) == 0
    assert "0 jobs to run, 15 finished before" in capsys.readouterr().out


def test_speed_returns_epoch_times_ensembles_and_throughput(gpu_run, tmp_path, capsys):
    baseline = {
        "environment": {"device_name": "Slow CPU", "device": "cpu", "cpu_count": 2},
        "max_cases": 1000,
        "epochs": [
            {"model": "lite", "dataset": "GunPoint", "precision": "fp32", "median_seconds": 1e3}
        ],
        "ensembles": [],
        "throughput": [],
    }
    (tmp_path / "cpu.json").write_text(json.dumps(baseline))
    options = (
        "--phases speed --speed-models lite --speed-datasets GunPoint:3 --ensembles litetime "
        "--ensemble-datasets GunPoint:2 --members 2 --workers 1,2 --throughput-model lite "
        f"--throughput-epochs 2 --cpu-baseline {tmp_path / 'cpu.json'}"
    )
    assert _run(gpu_run, tmp_path / "out", options) == 0
    record = json.loads((tmp_path / "out" / "speed.json").read_text())
    (epochs,) = record["epochs"]
    assert (epochs["model"], epochs["dataset"], epochs["epochs"]) == ("lite", "GunPoint", 3)
    assert (epochs["batch_size"], epochs["steps_per_epoch"]) == (50, 1)
    assert 0 < epochs["median_seconds"] < 1e3
    assert [(e["batched"], e["members"]) for e in record["ensembles"]] == [(False, 2), (True, 2)]
    assert all(e["seconds"] > 0 for e in record["ensembles"])
    assert [t["workers"] for t in record["throughput"]] == [1, 2]
    assert all(t["epochs_per_second"] > 0 for t in record["throughput"])
    table = capsys.readouterr().out
    assert "| lite | GunPoint | fp32 | 50 x 1 | 1000000.0 ms |" in table
    assert f"{1e3 / epochs['median_seconds']:.1f}x |" in table
    assert "| litetime | GunPoint | 2 x 2 |" in table


def test_check_runs_gpu_check_and_the_cuda_tests(gpu_run, tmp_path):
    out = tmp_path / "out"
    assert _run(gpu_run, out, "--phases check --check-models lite") == 0
    text = (out / "check.txt").read_text()
    assert "| lite | fp32 |" in text and "| lite | bf16 |" in text and "LITETime x5" in text
    assert "skipped" in text  # no CUDA here: the cuda tests skip, and say so
    summary = json.loads((out / "summary.json").read_text())
    assert summary["phases"]["check"]["gpu_check"] == 0
    assert summary["phases"]["check"]["pytest_cuda"] == 0


def test_the_gpu_pack_holds_every_dataset_the_run_needs(gpu_run):
    pack = SCRIPT.parents[1] / gpu_run.DEFAULT_PACK
    if not pack.is_file():
        pytest.skip(f"no {gpu_run.DEFAULT_PACK} here (made by `gpu_run.py pack`; not committed)")
    with tarfile.open(pack) as tar:
        names = set(tar.getnames())
    needed = [*DEV_BY_COST, gpu_run.LONG_DATASET, "GunPoint"]
    assert {f"{n}/{n}_{split}.tsv" for n in needed for split in ("TRAIN", "TEST")} <= names
    assert pack.stat().st_size < 40 * 2**20  # with the tree and the wheels, under 64 MiB
