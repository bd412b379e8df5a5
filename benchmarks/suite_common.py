"""Plumbing shared by the benchmark suites: a resumable CSV of runs and Markdown tables."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd


def run_resumable(
    out: Path,
    fields: list[str],
    jobs: Iterable[tuple],
    key_fields: tuple[str, ...],
    run_one: Callable[..., dict],
) -> pd.DataFrame:
    """Run each job not yet in ``out``, appending one row each.

    A job is the argument tuple of ``run_one``; its first ``len(key_fields)`` values are
    matched against those columns of ``out``.

    Rows are flushed as they finish, so an interrupted suite keeps its results and a rerun
    continues where it stopped. Returns every row of ``out``.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    done: set[tuple] = set()
    if out.exists():
        previous = pd.read_csv(out)
        done = {tuple(row) for row in previous[list(key_fields)].itertuples(index=False)}
    with out.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        if not out.stat().st_size:
            writer.writeheader()
        for job in jobs:
            if tuple(job)[: len(key_fields)] in done:
                continue
            row = run_one(*job)
            writer.writerow(row)
            handle.flush()
            print(row, flush=True)
    return pd.read_csv(out)


def append_rows(out: Path, fields: list[str], rows: list[dict]) -> None:
    """Append ``rows`` to the CSV ``out`` (header written when the file is new)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists() or not out.stat().st_size
    with out.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4f}"
    return str(value)


def markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers rounded to 4 decimals)."""
    header = [str(frame.index.name or "")] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in frame.iterrows():
        cells = [_cell(v) for v in row]
        lines.append("| " + " | ".join([str(index)] + cells) + " |")
    return "\n".join(lines)
