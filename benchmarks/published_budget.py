"""The published-budget reproduction, in resumable chunks, cheapest datasets first.

    python benchmarks/published_budget.py --data-root /path/to/UCRArchive_2018 --n-jobs 2

Each chunk is ``sparsetsc study reproduce --budget full`` over the next ``--chunk`` datasets
of the dev suite ordered by cost (``dev-by-cost``), into ``results/published-budget``, in the
issue's order of scope: first LITE, DSP-LITE, its uniform-width control and MiniROCKET on
every dataset, then DSN on the first ``--dsn-datasets``, then the DSP paper's LITE
ensembles (LITETime, DSP-LITETime and the authors' uniform LITETime of 16 filters, each
member a job of its own, the first being the single LITE / DSP-LITE job) on the first
``--ensemble-datasets``, then Inception and DSP-Inception on the first
``--inception-datasets``, then DSN with the official UEA settings (59 filters, density 0.1)
beside LITETime on the local UEA sets (``dsn-multivariate``, official split, into
``--uea-runs`` from ``--uea-root``). Finished jobs are skipped, so a
killed run resumes where it stopped. After every chunk the folder's README is regenerated
(``sparsetsc report``, options in its ``report.json``); commit the folder then, so nothing
finished is lost. The docs' copy of the claims table (the Studies page) is updated with it
(``--sync-claims`` does only that). ``--hours`` stops before starting a chunk once that much
time has passed. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import NamedTuple

from sparsetsc.bench.studies import UEA
from sparsetsc.bench.suites import DEV_BY_COST
from sparsetsc.cli import main as sparsetsc

LITE_FAMILY = "LITE,DSP-LITE,LITE (uniform width of DSP-LITE),MiniROCKET"
LITE_ENSEMBLES = "LITETime,DSP-LITETime,LITETime (16 filters per branch)"
INCEPTION_FAMILY = "Inception,DSP-Inception"
#: DSN with the official UEA settings beside LITETime, on the UEA sets (dsn-multivariate).
DSN_UEA = "DSN (UEA settings),LITETime"
#: The stages in the order they run.
STAGES = ("lite", "dsn", "lite-ensembles", "inception", "dsn-uea")

#: The docs' copy of the claims table (the Studies page) sits between these lines.
CLAIMS_START = "<!-- claims table: copied from results/published-budget/README.md -->"
CLAIMS_END = "<!-- end of the claims table -->"


def claims_lines(results_readme: str) -> list[str]:
    """The claims table (header, rule and rows) of the results README."""
    lines = results_readme.splitlines()
    first = lines.index("| claim | ours | published | verdict | evidence |")
    last = first
    while last + 1 < len(lines) and lines[last + 1].startswith("|"):
        last += 1
    return lines[first : last + 1]


def sync_claims(results: Path, page: Path) -> None:
    """Replace the claims table between the markers of ``page`` by that of ``results``."""
    lines = page.read_text().splitlines()
    start, end = lines.index(CLAIMS_START), lines.index(CLAIMS_END)
    table = claims_lines((results / "README.md").read_text())
    page.write_text("\n".join([*lines[: start + 1], *table, *lines[end:]]) + "\n")


class Stage(NamedTuple):
    """One stage: a study's variants over datasets, into a runs directory."""

    study: str
    variants: str
    datasets: list[str]
    runs: str
    data_root: str | None
    seeds: int | None = None  # None: the budget's (1 for reproduce)


def _study(stage: Stage, datasets: list[str], args: argparse.Namespace) -> int:
    command = [
        "study",
        stage.study,
        "--budget",
        "full",
        "--runs",
        stage.runs,
        "--datasets",
        ",".join(datasets),
        "--variants",
        stage.variants,
        "--out",
        args.sections,
        "--n-jobs",
        str(args.n_jobs),
        "--quiet",
    ]
    if stage.seeds is not None:
        command += ["--seeds", str(stage.seeds)]
    if stage.data_root:
        command += ["--data-root", stage.data_root]
    return sparsetsc(command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="archive folder of the UCR-2018 datasets")
    parser.add_argument("--runs", default="results/published-budget")
    parser.add_argument(
        "--sections",
        default="runs/published-budget-chunks",
        help="where each chunk's study section goes (it covers that chunk only, so it is not "
        "part of the committed results)",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=5, help="datasets per chunk")
    parser.add_argument("--datasets", type=int, default=len(DEV_BY_COST), help="how many")
    parser.add_argument("--dsn-datasets", type=int, default=30, help="DSN on the first N")
    parser.add_argument(
        "--ensemble-datasets", type=int, default=30, help="the LITE ensembles on the first N"
    )
    parser.add_argument(
        "--inception-datasets",
        type=int,
        default=10,
        help="Inception and DSP-Inception on the first N",
    )
    parser.add_argument("--uea-root", help="archive folder of the UEA sets (dsn-uea stage)")
    parser.add_argument("--uea-runs", default="results/published-budget-uea")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"which stages to run, in their order (default: all of {', '.join(STAGES)})",
    )
    parser.add_argument("--hours", type=float, help="start no chunk after this many hours")
    parser.add_argument(
        "--claims-page",
        default="docs/user-guide/studies.md",
        help="the docs page whose claims table is kept equal to the results' one",
    )
    parser.add_argument(
        "--sync-claims",
        action="store_true",
        help="only copy the results' claims table into --claims-page, and exit",
    )
    args = parser.parse_args()
    if args.sync_claims:
        sync_claims(Path(args.runs), Path(args.claims_page))
        return
    started = time.monotonic()
    datasets = list(DEV_BY_COST[: args.datasets])

    def reproduce(variants: str, names: list[str]) -> Stage:
        return Stage("reproduce", variants, names, args.runs, args.data_root)

    stages = {
        "lite": reproduce(LITE_FAMILY, datasets),
        "dsn": reproduce("DSN", datasets[: args.dsn_datasets]),
        "lite-ensembles": reproduce(LITE_ENSEMBLES, datasets[: args.ensemble_datasets]),
        "inception": reproduce(INCEPTION_FAMILY, datasets[: args.inception_datasets]),
        # the official split only, as the UCR stages
        "dsn-uea": Stage(
            "dsn-multivariate", DSN_UEA, list(UEA), args.uea_runs, args.uea_root, seeds=1
        ),
    }
    chosen = [name.strip() for name in args.stages.split(",") if name.strip()]
    if not chosen or set(chosen) - set(STAGES):
        parser.error(f"--stages takes some of {', '.join(STAGES)}; got {args.stages!r}")
    if "dsn-uea" in chosen and not args.uea_root:
        parser.error("the dsn-uea stage needs --uea-root, the UEA archive folder")
    chunks = [
        (stage, chunk)
        for name in STAGES
        if name in chosen
        for stage in [stages[name]]
        for chunk in (
            stage.datasets[i : i + args.chunk] for i in range(0, len(stage.datasets), args.chunk)
        )
    ]
    for number, (stage, chunk) in enumerate(chunks, 1):
        if args.hours is not None and time.monotonic() - started > 3600 * args.hours:
            print(f"stopping after {args.hours} h; rerun to continue")
            break
        print(f"chunk {number}/{len(chunks)}, {stage.variants}: {', '.join(chunk)}", flush=True)
        _study(stage, chunk, args)
        sparsetsc(["report", stage.runs])
        if stage.runs != args.runs:
            continue
        page = Path(args.claims_page)
        if page.is_file() and CLAIMS_START in page.read_text():  # the project's docs page
            sync_claims(Path(args.runs), page)


if __name__ == "__main__":
    main()
