"""The real ``sparsetsc`` command on damaged files and bad input: one line on stderr, status 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sparsetsc import FCNClassifier

FAST = dict(n_filters=(6, 6), kernel_sizes=(5, 3), n_epochs=2, batch_size=8, device="cpu")


def _command() -> list[str]:
    script = Path(sys.executable).with_name("sparsetsc")
    if not script.exists():
        pytest.skip("the sparsetsc console script is not installed beside this Python")
    return [str(script)]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_command(), *args], capture_output=True, text=True, check=False)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparsetsc "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> dict[str, Path]:
    """A 1-channel dataset folder, a model saved on it, and damaged copies of that model."""
    root = tmp_path_factory.mktemp("cli-errors")
    rng = np.random.default_rng(0)
    folder = root / "Toy"
    folder.mkdir()
    for split in ("TRAIN", "TEST"):
        labels = np.resize([1, 2], 12)
        values = rng.normal(size=(12, 16)) + 3 * labels[:, None]
        np.savetxt(folder / f"Toy_{split}.tsv", np.column_stack([labels, values]), "%g", "\t")
    X = rng.normal(size=(12, 1, 16)).astype(np.float32)
    model = root / "model"
    FCNClassifier(**FAST, random_state=0).fit(X, np.resize(["1", "2"], 12)).save(model)
    paths = {"dataset": folder, "model": model}
    damages = {
        "json": lambda f: (f / "config.json").write_text('{"format_version": 1, "estim'),
        "weights": lambda f: (f / "model.safetensors").write_bytes(b"\x08\x00\x00\x00junk"),
        "shape": lambda f: _edit(f, lambda c: c["network"]["config"].update(n_filters=[3, 3])),
        "param": lambda f: _edit(f, lambda c: c["params"].update(bogus=1)),
    }
    for name, damage in damages.items():
        shutil.copytree(model, root / name)
        damage(root / name)
        paths[name] = root / name
    return paths


def _edit(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        ("json", "config.json: not a readable JSON model config"),
        ("weights", "model.safetensors: not a readable safetensors file"),
        ("shape", "the weights do not match the network described in config.json"),
        ("param", "FCNClassifier has no hyper-parameter(s) bogus"),
    ],
)
def test_evaluate_on_a_damaged_model_is_one_line(toy, damage, fragment):
    result = run("evaluate", str(toy[damage]), "--dataset", str(toy["dataset"]))
    assert_one_line_error(result, "sparsetsc evaluate: error:", str(toy[damage]), fragment)


def test_analyze_and_export_on_a_damaged_model_are_one_line(toy, tmp_path):
    assert_one_line_error(run("analyze", str(toy["weights"])), "analyze: error:", "safetensors")
    onnx = tmp_path / "model.onnx"
    assert_one_line_error(
        run("export", str(toy["json"]), "--onnx", str(onnx)), "export: error:", "JSON"
    )
    assert not onnx.exists()


def test_a_truncated_dataset_row_stops_fit_before_any_work(toy, tmp_path):
    folder = tmp_path / "Cut"
    shutil.copytree(toy["dataset"], folder)
    for split in ("TRAIN", "TEST"):
        (folder / f"Toy_{split}.tsv").rename(folder / f"Cut_{split}.tsv")
    train = folder / "Cut_TRAIN.tsv"
    lines = train.read_text().splitlines()
    lines[4] = lines[4][: len(lines[4]) // 2]
    train.write_text("\n".join(lines) + "\n")
    out = tmp_path / "model"
    result = run(
        "fit", "--model", "fcn", "--dataset", str(folder), "--epochs", "2", "--out", str(out)
    )
    assert_one_line_error(result, "fit: error:", "Cut_TRAIN.tsv", "line 5", "fewer")
    assert not out.exists()


def test_evaluate_on_data_of_another_shape_names_both_shapes(toy, tmp_path):
    folder = tmp_path / "Long"
    folder.mkdir()
    rows = np.column_stack([np.resize([1, 2], 6), np.zeros((6, 30))])
    np.savetxt(folder / "Long_TEST.tsv", rows, "%g", "\t")
    np.savetxt(folder / "Long_TRAIN.tsv", rows, "%g", "\t")
    result = run("evaluate", str(toy["model"]), "--dataset", str(folder))
    assert_one_line_error(result, "1 channel(s) of 30 time points", "of 16 time points")


def test_debug_shows_the_traceback(toy):
    result = run("--debug", "evaluate", str(toy["json"]), "--dataset", str(toy["dataset"]))
    assert result.returncode != 0 and "Traceback" in result.stderr
    assert "ModelFileError" in result.stderr
