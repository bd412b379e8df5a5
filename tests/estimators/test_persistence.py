from __future__ import annotations

import json

import numpy as np
import pytest

import sparsetsc
from sparsetsc import FCNClassifier
from sparsetsc.cost import estimator_cost

FAST = dict(n_filters=(6, 6), kernel_sizes=(5, 3), n_epochs=3, batch_size=8, device="cpu")


@pytest.mark.parametrize("labels", [np.array(["a", "b", "c"]), np.array([3, 10, 20])])
def test_round_trip_predicts_identically(tiny_data, tmp_path, labels):
    X, y_letters = tiny_data
    y = labels[np.unique(y_letters, return_inverse=True)[1]]
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    clf.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    loaded = sparsetsc.load(tmp_path / "model")
    assert type(loaded) is FCNClassifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.score(X, y) == clf.score(X, y)
    assert loaded.history_ == clf.history_ and loaded.seed_ == clf.seed_
    assert estimator_cost(loaded).as_dict() == estimator_cost(clf).as_dict()


def test_saving_replaces_a_model_but_never_a_foreign_directory(tiny_data, tmp_path):
    X, y = tiny_data
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    clf.save(tmp_path / "model")
    clf.set_params(random_state=1)
    clf.fit(X, y).save(tmp_path / "model")  # overwriting a saved model is fine
    assert sparsetsc.load(tmp_path / "model").seed_ == 1
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError):
        clf.save(foreign)
    with pytest.raises(FileExistsError):
        clf.save(foreign / "thesis.tex")
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]
    assert (foreign / "thesis.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "notes"]  # no temp left


def test_saving_an_unfitted_model_raises_and_writes_nothing(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FCNClassifier().save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_loading_rejects_unknown_estimators_and_missing_files(tiny_data, tmp_path):
    X, y = tiny_data
    FCNClassifier(**FAST, random_state=0).fit(X, y).save(tmp_path / "model")
    config_file = tmp_path / "model" / "config.json"
    config = json.loads(config_file.read_text())
    config["estimator"] = "os.system"
    config_file.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="unknown estimator 'os.system'"):
        sparsetsc.load(tmp_path / "model")
    with pytest.raises(sparsetsc.ModelFileError, match="not a saved sparsetsc model"):
        sparsetsc.load(tmp_path / "missing")


def test_weights_file_is_plain_safetensors(tiny_data, tmp_path):
    from safetensors import safe_open

    X, y = tiny_data
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    clf.save(tmp_path / "model")
    with safe_open(str(tmp_path / "model" / "model.safetensors"), framework="pt") as f:
        keys = set(f.keys())
    assert keys == set(clf.network_.state_dict())
