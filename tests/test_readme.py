"""The README's examples that say they are tested run as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

README = Path(__file__).parents[1] / "README.md"


def _example(name: str) -> str:
    match = re.search(rf"<!-- tested: {name} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no tested example {name!r}"
    return match.group(1)


def test_dsp_on_your_own_network_example_runs_and_prunes(capsys):
    code = _example("dsp-own-network")
    assert len([line for line in code.splitlines() if line.strip()]) < 20
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
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


def test_the_first_command_runs_the_main_job_and_no_example_uses_a_private_path():
    text = README.read_text()
    first = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    assert "sparsetsc fit --model dsp-lite --dataset GunPoint" in first
    assert "on an idle 2-core machine" in text[: text.index("## Status")]
    assert "../shared" not in text and "/work/" not in text
