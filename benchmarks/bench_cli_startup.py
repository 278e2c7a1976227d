"""How long `surveyapp --help` and `surveyapp estimate --help` take, wall and CPU (issue: < 1 s).

Usage: python benchmarks/bench_cli_startup.py [--runs N]
Each command runs N times in a fresh interpreter; prints best and median wall time and the
child's CPU time (user + system), which varies less on a shared machine.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time

COMMANDS = (["--help"], ["estimate", "--help"], ["export", "--help"])


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `surveyapp ARGS` run."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run([shutil.which("surveyapp") or "surveyapp", *args], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"{'command':28} {'best wall':>10} {'median wall':>12} {'median CPU':>11}")
    for args in COMMANDS:
        samples = [timed(args) for _ in range(runs)]
        walls, cpus = zip(*samples)
        name = "surveyapp " + " ".join(args)
        print(f"{name:28} {min(walls):9.2f}s {statistics.median(walls):11.2f}s"
              f" {statistics.median(cpus):10.2f}s")


if __name__ == "__main__":
    main()
