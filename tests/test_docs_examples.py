"""The examples of the README and the docs that say they are tested run as written."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _block(name: str, language: str) -> str:
    """The code block marked ``<!-- tested: name -->``; where it appears on several pages
    (the README and the docs), every copy must be the same."""
    pattern = rf"<!-- tested: {name} -->\n```{language}\n(.*?)```"
    copies = {m for page in PAGES for m in re.findall(pattern, page.read_text(), re.S)}
    assert copies, f"no page has a tested {language} example {name!r}"
    assert len(copies) == 1, f"the copies of {name!r} differ"
    return copies.pop()


def _example(name: str) -> str:
    return _block(name, "python")


def test_dsp_on_your_own_network_example_runs_and_prunes(capsys):
    code = _example("dsp-own-network")
    assert len([line for line in code.splitlines() if line.strip()]) < 20
    namespace: dict = {}
    exec(compile(code, "docs/user-guide/dsp.md", "exec"), namespace)
    result = namespace["result"]
    widths = result.kept_widths
    assert set(widths) == {"2", "5"} and all(1 <= w <= 32 for w in widths.values())
    assert result.compression["trainable"] > 0 and result.cost.params < result.base_cost.params
    network = result.network
    assert (network[0].out_channels, network[3].out_channels) == (widths["2"], widths["5"])
    X = torch.as_tensor(namespace["sparsetsc"].data.znormalize(namespace["X"]))
    with torch.no_grad():
        accuracy = (network(X).argmax(1).numpy() == namespace["targets"]).mean()
    assert accuracy > 0.7  # the pruned, retrained network fits its training data
    printed = capsys.readouterr().out
    assert str(widths) in printed and np.isfinite(result.compression["trainable"])


def test_the_readme_is_a_landing_page_whose_first_command_runs_the_main_job():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    commands = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert "sparsetsc fit --model dsp-lite --dataset GunPoint" in commands[0]
    assert "python -m pytest -q" in commands[1] and ".[dev]" in commands[1]
    first_section = text[: text.index("\n## ")]
    assert "on an idle 2-core" in first_section  # the main job's measured time
    for heading in ("## In Python", "## Your own data", "## Results", "## Documentation"):
        assert heading in text
    # every relative link of the README points at a file of the repository
    for target in re.findall(r"\]\((?!https?://)([^)#]+)", text):
        assert (ROOT / target).exists(), target


def test_no_page_uses_a_private_path():
    for page in PAGES:
        text = page.read_text()
        assert "../shared" not in text and "/work/" not in text, page


def test_the_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    import sparsetsc

    code = _example("readme-python")
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    monkeypatch.chdir(tmp_path)
    # the example's budget is the published one (42 s); 4 + 4 epochs run the same code
    short = functools.partial(sparsetsc.estimators.DSPClassifier, n_epochs=4)
    monkeypatch.setattr(sparsetsc, "DSPClassifier", short)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "gunpoint-dsp").is_dir()
    printed = capsys.readouterr().out.splitlines()
    assert 0.0 <= float(printed[0]) <= 1.0 and "trainable" in printed[1]
    assert namespace["same"].n_epochs == 4


def _bash_example(name: str) -> str:
    return _block(name, "bash")


def _write_waves(folder: Path) -> None:
    """Sine against square waves, as a practitioner's own CSV files (label first)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    time = np.linspace(0, 4 * np.pi, 100)
    for name, n in (("waves_train", 20), ("waves_test", 10), ("new_waves", 10)):
        phases = rng.uniform(0, 2 * np.pi, (2 * n, 1))
        X = np.concatenate([np.sin(time + phases[:n]), np.sign(np.sin(time + phases[n:]))])
        frame = pd.DataFrame(X + rng.normal(scale=0.1, size=X.shape))
        if name != "new_waves":  # new series come without labels
            frame.insert(0, "label", ["sine"] * n + ["square"] * n)
        frame.to_csv(folder / f"{name}.csv", index=False)


def test_the_your_own_data_examples_run_on_generated_files(tmp_path, monkeypatch, capsys):
    import shlex

    import pandas as pd

    import sparsetsc
    from sparsetsc.cli import main

    text = README.read_text()
    section = text[text.index("## Your own data") : text.index("## Results")]
    assert len(section.strip().splitlines()) < 25
    monkeypatch.chdir(tmp_path)
    _write_waves(tmp_path)
    for line in _bash_example("own-data-cli").strip().splitlines():
        command = shlex.split(line)
        assert command[0] == "sparsetsc"
        assert main([*command[1:], "--quiet"] if command[1] == "fit" else command[1:]) == 0
    predicted = pd.read_csv(tmp_path / "predictions.csv")
    assert list(predicted.columns) == ["prediction", "probability_sine", "probability_square"]
    assert list(predicted["prediction"]) == ["sine"] * 10 + ["square"] * 10
    capsys.readouterr()
    (tmp_path / "waves-model").rename(tmp_path / "cli-model")
    namespace: dict = {}
    exec(compile(_example("own-data-python"), "own-data.md", "exec"), namespace)
    assert "sine" in capsys.readouterr().out
    # the same seed and data give the command line's model
    python_model, cli_model = (sparsetsc.load(tmp_path / n) for n in ("waves-model", "cli-model"))
    X_new = namespace["X_new"]
    np.testing.assert_array_equal(python_model.predict_proba(X_new), cli_model.predict_proba(X_new))
