"""A tiny archive of two small UCR-format datasets cut from the bundled GunPoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sparsetsc


def _write_split(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    rows = [[label, *series[0]] for series, label in zip(X, y, strict=True)]
    path.write_text("\n".join("\t".join(str(v) for v in row) for row in rows) + "\n")


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory) -> Path:
    """Archive root holding ``TinyA`` and ``TinyB`` (20 train and 20 test series each)."""
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test("GunPoint", download=False)
    root = tmp_path_factory.mktemp("archive")
    for offset, name in enumerate(("TinyA", "TinyB")):
        folder = root / name
        folder.mkdir()
        train = slice(offset * 20, offset * 20 + 20)
        _write_split(folder / f"{name}_TRAIN.tsv", X_train[train], y_train[train])
        _write_split(folder / f"{name}_TEST.tsv", X_test[train], y_test[train])
    return root
