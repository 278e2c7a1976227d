"""Time of a Fay-Herriot fit (REML + EBLUP + Prasad-Rao MSE, analysis.fay_herriot) for many
streets: an intercept and 2 auxiliaries, design variances as from 5-120 responses, a tenth of
the streets without a direct estimate (synthetic).

    python benchmarks/bench_fay_herriot.py                    # 500, 5,000, 50,000 streets
    python benchmarks/bench_fay_herriot.py --sizes 5000 --repeat 50
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.fay_herriot import fay_herriot


def streets(m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(m), rng.uniform(70, 90, m), rng.uniform(0.1, 0.4, m)])
    n = rng.integers(5, 121, m)
    vardir = 250.0 / n
    y = X @ [10.0, 0.85, -8.0] + rng.normal(0, 2.0, m) + rng.normal(0, np.sqrt(vardir))
    y[rng.random(m) < 0.1] = np.nan
    return y, vardir, X


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 50000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} rounds, "
          "wall ms (CPU ms)")
    print("| streets | iterations | fit wall ms | fit CPU ms |\n|---|---|---|---|")
    for m in args.sizes:
        y, vardir, X = streets(m)
        walls, cpus = [], []
        for _round in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            fit = fay_herriot(y, vardir, X)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        print(f"| {m:,} | {fit.iterations} | {statistics.median(walls):.1f} | "
              f"{statistics.median(cpus):.1f} |")


if __name__ == "__main__":
    main()
