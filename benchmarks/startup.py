"""Start-up time of the library and the command, each in fresh processes.

Times ``import sparsetsc``, ``sparsetsc --help``, an argument error (``sparsetsc fit
--model nope``) and, for scale, ``import torch``, each run ``--repeats`` times in a new
Python process, alternating, and prints the median, the fastest and the slowest wall time:

    python benchmarks/startup.py --repeats 10

Run it alone on the machine: another process beside it slows every start.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import time

CASES = {
    "import sparsetsc": [sys.executable, "-c", "import sparsetsc"],
    "sparsetsc --help": [sys.executable, "-m", "sparsetsc.cli", "--help"],
    "sparsetsc fit --model nope": [sys.executable, "-m", "sparsetsc.cli", "fit", "--model", "x"],
    "import torch (for scale)": [sys.executable, "-c", "import torch"],
}


def _cpu() -> str:
    if shutil.which("lscpu"):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="fresh processes per case")
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeats):
        for name, command in CASES.items():  # alternating, so drift hits every case alike
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            seconds[name].append(time.perf_counter() - started)
    print(f"{_cpu()}, Python {platform.python_version()}, {args.repeats} fresh processes each")
    for name, times in seconds.items():
        print(
            f"{name:<28} median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f})"
        )


if __name__ == "__main__":
    main()
