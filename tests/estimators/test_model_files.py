"""Damaged and inconsistent model directories: one ModelFileError naming the file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import sparsetsc
from sparsetsc import FCNClassifier, LITETimeClassifier, ModelFileError

FAST = dict(n_filters=(6, 6), kernel_sizes=(5, 3), n_epochs=2, batch_size=8, device="cpu")


@pytest.fixture(scope="module")
def saved(tiny_data, tmp_path_factory) -> dict[str, Path]:
    """A saved FCN, a saved FCN of another width and a saved 2-member LITETime."""
    X, y = tiny_data
    root = tmp_path_factory.mktemp("models")
    FCNClassifier(**FAST, random_state=0).fit(X, y).save(root / "fcn")
    FCNClassifier(**{**FAST, "n_filters": (4, 4)}, random_state=0).fit(X, y).save(root / "narrow")
    LITETimeClassifier(n_members=2, n_epochs=1, random_state=0).fit(X, y).save(root / "ensemble")
    return {"fcn": root / "fcn", "narrow": root / "narrow", "ensemble": root / "ensemble"}


def _edit_config(folder: Path, edit: Callable[[dict], None]) -> None:
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGES: dict[str, tuple[str, Callable[[Path, dict[str, Path]], None], str]] = {
    "invalid JSON": (
        "fcn",
        lambda f, _: _truncate(f / "config.json"),
        r"config\.json: not a readable JSON model config",
    ),
    "truncated weights": (
        "fcn",
        lambda f, _: _truncate(f / "model.safetensors"),
        r"model\.safetensors: not a readable safetensors file",
    ),
    "foreign weights": (
        "fcn",
        lambda f, s: shutil.copy(s["narrow"] / "model.safetensors", f / "model.safetensors"),
        r"model\.safetensors: the weights do not match the network described in config\.json",
    ),
    "network config disagrees with the weights": (
        "fcn",
        lambda f, _: _edit_config(f, lambda c: c["network"]["config"].update(n_filters=[9, 9])),
        r"the weights do not match",
    ),
    "more classes than head outputs": (
        "fcn",
        lambda f, _: _edit_config(f, lambda c: c["classes"].append("d")),
        r"config\.json: 4 class label\(s\) are listed but the network's head has 3 outputs",
    ),
    "a fitted key that would replace a method": (
        "fcn",
        lambda f, _: _edit_config(f, lambda c: c["fitted"].update(predict="pwned")),
        r"config\.json: 'fitted' holds attribute\(s\) FCNClassifier does not save: 'predict'",
    ),
    "unknown hyper-parameter": (
        "fcn",
        lambda f, _: _edit_config(f, lambda c: c["params"].update(bogus=1)),
        r"config\.json: FCNClassifier has no hyper-parameter\(s\) bogus",
    ),
    "missing network": (
        "fcn",
        lambda f, _: _edit_config(f, lambda c: c.pop("network")),
        r"config\.json: 'network' must be a dict; it is missing",
    ),
    "no config": (
        "fcn",
        lambda f, _: (f / "config.json").unlink(),
        r"is not a saved sparsetsc model",
    ),
    "missing ensemble member": (
        "ensemble",
        lambda f, _: shutil.rmtree(f / "member_1"),
        r"config\.json: missing ensemble member 'member_1'",
    ),
    "member with other classes": (
        "ensemble",
        lambda f, _: _edit_config(f / "member_0", lambda c: c["classes"].reverse()),
        r"member_0/config\.json: the member's classes",
    ),
}


def damaged(name: str, saved: dict[str, Path], tmp_path: Path) -> Path:
    model, damage, _ = DAMAGES[name]
    folder = tmp_path / name.replace(" ", "-")
    shutil.copytree(saved[model], folder)
    damage(folder, saved)
    return folder


@pytest.mark.parametrize("name", list(DAMAGES))
def test_a_damaged_model_directory_raises_one_model_file_error(name, saved, tmp_path):
    folder = damaged(name, saved, tmp_path)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(ModelFileError, match=DAMAGES[name][2]):
        sparsetsc.load(folder)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # wrote nothing
    assert issubclass(ModelFileError, ValueError)


def test_the_undamaged_copies_load_and_predict(saved, tiny_data):
    X, _ = tiny_data
    for folder in saved.values():
        model = sparsetsc.load(folder)
        assert model.predict(X).shape == (len(X),)
    assert callable(sparsetsc.load(saved["fcn"]).predict)


def test_predicting_the_wrong_shape_names_both_shapes(saved, tiny_data):
    X, _ = tiny_data
    model = sparsetsc.load(saved["fcn"])
    with pytest.raises(ValueError, match=r"X has 2 channel\(s\) .* fitted on 3") as raised:
        model.predict(X[:, :2])
    assert "equalize_length" not in str(raised.value)  # resampling cannot add a channel
    with pytest.raises(ValueError, match=r"X has 3 channel\(s\) of 20 time points .* of 24 time"):
        model.predict(X[:, :, :20])
    unequal = [X[0], X[1, :, :20]]
    with pytest.raises(ValueError, match=r"unequal length \(20 to 24.*'pad', 'resample', 'trunc"):
        model.predict(unequal)
    np.testing.assert_array_equal(model.predict(list(X[:2])), model.predict(X[:2]))
