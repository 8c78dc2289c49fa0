"""Time to import the client from ``airforce_openai`` against ``openai``, in fresh interpreters.

``import airforce_openai`` alone loads nothing but its version (names load on first
use), so the fair pair is what a user runs: ``from airforce_openai import OpenAI``
against ``from openai import OpenAI``. The bare import is shown too.

Runs alternate between the two (and a bare interpreter, for scale), so drift in
the machine's load hits both alike; the medians are compared. Wall-clock time is
what a user waits; the CPU time of the child (user + system) is reported too, as
it moves less when other processes compete for the machine.

    python benchmarks/import_time.py             # 15 runs of each
    python benchmarks/import_time.py --runs 31

POSIX only (the child's CPU time comes from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

TARGET = 1.15
STOCK = "from openai import OpenAI"
OURS = "from airforce_openai import OpenAI"
STATEMENTS = {
    "python (startup only)": "pass",
    "import airforce_openai": "import airforce_openai",
    STOCK: STOCK,
    OURS: OURS,
}


@dataclass(frozen=True)
class Sample:
    """One run: wall-clock and CPU seconds."""

    wall: float
    cpu: float


def run_once(statement: str) -> Sample:
    """Time a fresh interpreter that runs ``statement`` and exits."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", statement])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{statement!r} failed with exit status {code}")
    return Sample(wall, usage.ru_utime + usage.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each statement (15)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    for statement in STATEMENTS.values():  # warm the file-system cache
        run_once(statement)
    samples: dict[str, list[Sample]] = {name: [] for name in STATEMENTS}
    for _ in range(args.runs):
        for name, statement in STATEMENTS.items():
            samples[name].append(run_once(statement))

    width = max(len(name) for name in STATEMENTS)
    print(f"{f'medians of {args.runs} runs':<{width}}    wall ms    cpu ms")
    wall = {name: statistics.median(s.wall for s in runs) for name, runs in samples.items()}
    cpu = {name: statistics.median(s.cpu for s in runs) for name, runs in samples.items()}
    for name in STATEMENTS:
        print(f"{name:<{width}} {wall[name] * 1000:10.1f} {cpu[name] * 1000:9.1f}")
    ours, stock = OURS, STOCK
    print(
        f"ratio airforce_openai/openai: wall {wall[ours] / wall[stock]:.3f}x, "
        f"cpu {cpu[ours] / cpu[stock]:.3f}x  (target <= {TARGET}x)"
    )


if __name__ == "__main__":
    main()
