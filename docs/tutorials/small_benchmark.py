# %% [markdown]
# # A small benchmark with a critical-difference diagram
#
# A sweep runs every (model, dataset, resample) job and writes one result file per job in
# the tsml-eval format; a report reads a folder of them and draws the tables, the Wilcoxon
# tests and aeon's critical-difference diagram. Here: three models on the bundled GunPoint
# and five generated datasets, at 30 epochs, in about a minute on 2 CPU cores. The same
# from the command line is `sparsetsc bench --models ... --datasets ... --data-root DIR`
# then `sparsetsc report RUNS_DIR`.
#
# Six datasets and 30 epochs make a demonstration, not evidence: with so few datasets no
# difference can be significant, and the report says so.

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Image, display

from sparsetsc.bench import plan_sweep, run_sweep
from sparsetsc.report import build_report

workdir = Path(tempfile.mkdtemp(prefix="sparsetsc-tutorial-"))
# datasets in the UCR layout: <Name>/<Name>_TRAIN.tsv
archive = workdir / "archive"

# %% [markdown]
# ## Generated datasets
#
# Five two- or three-class problems of increasing difficulty: shapes (sine, square,
# sawtooth) at random phases, under more and more noise. Each is written in the UCR
# archive's layout, label first, so the sweep reads it like any archive dataset.

# %%
rng = np.random.default_rng(0)
time = np.linspace(0, 4 * np.pi, 96)
shapes = {
    "sine": np.sin,
    "square": lambda t: np.sign(np.sin(t)),
    "sawtooth": lambda t: (t / np.pi) % 2 - 1,
}


def write_dataset(name: str, n_classes: int, noise: float) -> None:
    folder = archive / name
    folder.mkdir(parents=True)
    for split, n in (("TRAIN", 24), ("TEST", 60)):
        rows = []
        for label, shape in list(shapes.items())[:n_classes]:
            for _ in range(n // n_classes):
                series = shape(time + rng.uniform(0, 2 * np.pi))
                noisy = series + rng.normal(scale=noise, size=time.size)
                rows.append([label, *noisy])
        pd.DataFrame(rows).to_csv(
            folder / f"{name}_{split}.tsv",
            sep="\t",
            header=False,
            index=False,
        )


for i, noise in enumerate([0.2, 0.5, 0.8, 1.1, 1.4]):
    write_dataset(
        f"Shapes{i + 1}", n_classes=3 if i % 2 else 2, noise=noise
    )
datasets = ["GunPoint"] + sorted(p.name for p in archive.iterdir())
print(datasets)

# %% [markdown]
# ## The sweep
#
# `plan_sweep` checks every model and dataset before any work and sorts the jobs into
# finished and to do, so a sweep killed at any point resumes where it stopped.
# MiniROCKET (from aeon) runs in the same sweep as an in-run peer.

# %%
runs = workdir / "runs"
models = ["minirocket", "fcn", "lite"]
plan = plan_sweep(
    models, datasets, resamples=[0], runs_dir=runs, epochs=30,
    data_root=str(archive),
)  # fmt: skip
summary = run_sweep(plan, data_root=str(archive), progress=False)
print(f"{len(summary.outcomes)} jobs in {summary.seconds:.0f} s,", end=" ")
print(f"{len(summary.failed)} failed")
gunpoint = runs.glob("*/Predictions/GunPoint/*")
print(sorted(str(p.relative_to(runs)) for p in gunpoint))

# %% [markdown]
# ## The report
#
# `build_report` writes `report.md`, `report.html`, CSV tables and figures. The accuracy per
# dataset, then the diagram: methods joined by a bar are not significantly different.

# %%
build_report(runs)
accuracy = pd.read_csv(runs / "report" / "accuracy.csv", index_col=0)
display(accuracy.round(3))

# %%
display(Image(filename=str(runs / "report" / "cd_diagram.png")))

# %%
pairwise = pd.read_csv(runs / "report" / "pairwise.csv")
display(pairwise.round(3))
