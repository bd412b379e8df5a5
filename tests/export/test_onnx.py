"""ONNX export: round trips through onnxruntime, metadata, refusals that write nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from sparsetsc.cli import main  # noqa: E402
from sparsetsc.estimators import (  # noqa: E402
    DSNClassifier,
    DSPClassifier,
    FCNClassifier,
    InceptionTimeClassifier,
)
from sparsetsc.export import ExportError, OnnxClassifier, export_onnx  # noqa: E402
from sparsetsc.export import onnx as onnx_export  # noqa: E402


@pytest.fixture(scope="module")
def fitted(gunpoint):
    """Small but real fits on GunPoint of the three model families the issue names."""
    X_train, y_train, _, _ = gunpoint
    common = {"n_epochs": 3, "device": "cpu", "random_state": 0}
    return {
        "dsn": DSNClassifier(n_filters=8, kernel_size=15, **common).fit(X_train, y_train),
        "dsp-lite": DSPClassifier(backbone="lite", **common).fit(X_train, y_train),
        "inceptiontime": InceptionTimeClassifier(n_members=2, n_filters=8, **common).fit(
            X_train, y_train
        ),
    }


@pytest.mark.parametrize("name", ["dsn", "dsp-lite", "inceptiontime"])
def test_export_round_trips_with_identical_predictions(fitted, gunpoint, tmp_path, name):
    estimator = fitted[name]
    _, _, X_test, y_test = gunpoint
    target = tmp_path / f"{name}.onnx"
    result = export_onnx(estimator, target, X_test)
    assert result["verified_on"] == "data" and result["n_cases"] == len(X_test)
    assert result["predictions_identical"] and result["max_abs_diff"] <= 1e-5
    assert result["bytes"] == target.stat().st_size > 0
    runtime = OnnxClassifier(target)
    np.testing.assert_array_equal(runtime.predict(X_test), estimator.predict(X_test))
    np.testing.assert_allclose(
        runtime.predict_proba(X_test), estimator.predict_proba(X_test), atol=1e-5
    )
    assert runtime.score(X_test, y_test) == estimator.score(X_test, y_test)
    assert runtime.estimator == type(estimator).__name__
    # the batch size is free: one series at a time gives the same probabilities
    np.testing.assert_allclose(
        runtime.predict_proba(X_test[:1]), runtime.predict_proba(X_test)[:1], atol=1e-6
    )


def test_export_keeps_labels_and_multivariate_shape(tiny_data, tmp_path):
    X, y = tiny_data  # labels "a", "b", "c"; 3 channels
    estimator = FCNClassifier(n_epochs=5, device="cpu", random_state=0).fit(X, y)
    result = export_onnx(estimator, tmp_path / "fcn.onnx")  # no data: random series
    assert result["verified_on"] == "random" and result["n_cases"] == 32
    runtime = OnnxClassifier(tmp_path / "fcn.onnx")
    assert runtime.classes_.tolist() == ["a", "b", "c"]
    assert (runtime.n_channels, runtime.n_timepoints) == (3, 24)
    np.testing.assert_array_equal(runtime.predict(X), estimator.predict(X))
    with pytest.raises(ValueError, match=r"shape \(n_cases, 3, 24\)"):
        runtime.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        runtime.predict(np.full((1, 3, 24), np.nan))


def test_bad_requests_raise_and_write_nothing(fitted, gunpoint, tmp_path):
    estimator = fitted["dsp-lite"]
    _, _, X_test, _ = gunpoint
    with pytest.raises(ValueError, match="fitted on 1 and 150"):
        export_onnx(estimator, tmp_path / "m.onnx", X_test[:, :, :100])
    with pytest.raises(IsADirectoryError):
        export_onnx(estimator, tmp_path, X_test)
    with pytest.raises(Exception, match="not been fitted|not fitted"):
        export_onnx(FCNClassifier(), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_disagrees_with_pytorch_is_not_written(
    fitted, gunpoint, tmp_path, monkeypatch
):
    _, _, X_test, _ = gunpoint
    monkeypatch.setattr(onnx_export, "TOLERANCE", -1.0)  # nothing can pass
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous export")
    with pytest.raises(ExportError, match="nothing written"):
        export_onnx(fitted["dsp-lite"], target, X_test)
    assert target.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no temporary left


def test_onnx_classifier_refuses_foreign_files(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    onnx.save_model(helper.make_model(graph), tmp_path / "other.onnx")
    with pytest.raises(ValueError, match="not written by sparsetsc"):
        OnnxClassifier(tmp_path / "other.onnx")


def test_cli_export_verifies_on_a_dataset(fitted, tmp_path, capsys):
    model_dir = tmp_path / "model"
    fitted["dsn"].save(model_dir)
    target = tmp_path / "out" / "dsn.onnx"
    code = main(
        f"export {model_dir} --onnx {target} --dataset GunPoint --no-download --json".split()
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["estimator"] == "DSNClassifier" and result["verified_on"] == "data"
    assert result["n_cases"] == 150 and result["predictions_identical"]
    assert target.is_file()
    # a directory as the target is refused before any work
    assert main(f"export {model_dir} --onnx {tmp_path}".split()) == 2
    assert "is a directory" in capsys.readouterr().err
    # an existing file is replaced only with --overwrite
    written = target.read_bytes()
    target.write_bytes(b"someone else's file")
    assert main(f"export {model_dir} --onnx {target}".split()) == 2
    assert "exists; give --overwrite" in capsys.readouterr().err
    assert target.read_bytes() == b"someone else's file"
    assert main(f"export {model_dir} --onnx {target} --overwrite".split()) == 0
    assert target.read_bytes() != b"someone else's file" and len(target.read_bytes()) == len(
        written
    )
