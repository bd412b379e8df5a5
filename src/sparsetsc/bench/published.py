"""Published per-dataset accuracies, read from the public result tables a user has.

Formats recognised by their header (all found in the method repositories and the 2023
bake-off; see ``sources``):

* bake-off 2023: ``<Method>_accuracy.csv``, first row ``Resamples:,0,1,...``, one row per
  dataset, one column per resample (0 = the official split).
* wide tables: ``dataset`` (or ``dataset_name``) then one column per method: the LITE
  repository (UCR 128, UEA 30) and the OS-CNN repository (percentages, some as
  ``mean(std)``).
* long tables: ``classifier_name,...,dataset_name,iteration,...,accuracy`` (InceptionTime
  repository).
* ``dataset,accuracy_mean,...`` (ROCKET repository): method ROCKET.

Everything comes back as one long frame: ``source, method, dataset, resample, accuracy``
(accuracy in [0, 1]; resample -1 where a table gives one value per dataset).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

__all__ = ["PUBLISHED_COLUMNS", "load_published", "published_accuracy", "read_table"]

PUBLISHED_COLUMNS = ["source", "method", "dataset", "resample", "accuracy"]

_LEADING_NUMBER = re.compile(r"^\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)")


def _to_float(value: object) -> float:
    # OS-CNN writes some cells as "83.45(1.10)": keep the mean.
    if isinstance(value, (int, float)):
        return float(value)
    match = _LEADING_NUMBER.match(str(value))
    return float(match.group(1)) if match else float("nan")


def _bakeoff(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    method = path.name.removesuffix("_accuracy.csv")
    long = frame.melt(id_vars=frame.columns[0], var_name="resample", value_name="accuracy")
    return pd.DataFrame(
        {
            "method": method,
            "dataset": long[frame.columns[0]],
            "resample": long["resample"].astype(int),
            "accuracy": long["accuracy"].astype(float),
        }
    )


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": frame["classifier_name"],
            "dataset": frame["dataset_name"],
            "resample": frame["iteration"].astype(float).astype(int),
            "accuracy": frame["accuracy"].astype(float),
        }
    )


def _rocket(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "method": "ROCKET",
            "dataset": frame["dataset"],
            "resample": -1,
            "accuracy": frame["accuracy_mean"].astype(float),
        }
    )


def _wide(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    long = frame.melt(id_vars=key, var_name="method", value_name="accuracy")
    long["accuracy"] = long["accuracy"].map(_to_float)
    long = long.dropna(subset=["accuracy"])
    # Percent tables (OS-CNN): every value above 1 means the whole table is in percent.
    for method, values in long.groupby("method")["accuracy"]:
        if values.max() > 1.0:
            long.loc[long["method"] == method, "accuracy"] = values / 100.0
    return pd.DataFrame(
        {
            "method": long["method"],
            "dataset": long[key],
            "resample": -1,
            "accuracy": long["accuracy"].astype(float),
        }
    )


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """One published table as the long frame (``ValueError`` for an unknown layout)."""
    path = Path(path)
    frame = pd.read_csv(path)
    columns = [str(c) for c in frame.columns]
    if columns[0] == "Resamples:":
        table = _bakeoff(path, frame)
    elif {"classifier_name", "dataset_name", "iteration", "accuracy"} <= set(columns):
        table = _long(frame)
    elif {"dataset", "accuracy_mean"} <= set(columns):
        table = _rocket(frame)
    elif columns[0] in ("dataset", "dataset_name"):
        table = _wide(frame, columns[0])
    else:
        raise ValueError(f"{path}: unknown results layout (columns {columns[:5]} ...)")
    # The bake-off is one source of many per-method files; other tables are one file each.
    table.insert(0, "source", path.parent.name if columns[0] == "Resamples:" else path.stem)
    return table[PUBLISHED_COLUMNS].reset_index(drop=True)


def load_published(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """Every recognised table under ``folder`` (recursively) as one long frame."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"published results folder {folder} does not exist")
    tables = []
    for path in sorted(folder.rglob("*.csv")):
        try:
            tables.append(read_table(path))
        except (ValueError, KeyError, pd.errors.ParserError):
            continue  # not a results table (e.g. a README export)
    if not tables:
        raise ValueError(f"no published results table found under {folder}")
    return pd.concat(tables, ignore_index=True)


def published_accuracy(
    published: pd.DataFrame, method: str, resamples: list[int] | None = None
) -> pd.Series:
    """Per-dataset published accuracy of ``method``, matched to our resamples.

    A table with resamples (the bake-off) gives the mean over ``resamples`` (by default
    only resample 0, the official split); a one-value-per-dataset table gives that value.
    When several sources have the method, the one with per-resample results wins, then the
    first source in name order. ``method`` may name a source:
    ``"InceptionTime@lite_repo_results_ucr128"``.
    """
    method, _, source = method.partition("@")
    rows = published[published["method"] == method]
    if source:
        rows = rows[rows["source"] == source]
    if rows.empty:
        known = sorted(published["method"].unique())
        raise ValueError(f"no published results for {method!r}; known methods: {', '.join(known)}")
    resampled = rows[rows["resample"] >= 0]
    if not resampled.empty:
        chosen = resampled[resampled["source"] == sorted(resampled["source"].unique())[0]]
        chosen = chosen[chosen["resample"].isin(resamples or [0])]
    else:
        chosen = rows[rows["source"] == sorted(rows["source"].unique())[0]]
    return chosen.groupby("dataset")["accuracy"].mean().rename(method)
