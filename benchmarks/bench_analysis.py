"""Time and memory of the analysis pipeline against a plain pandas weighted group-by.

Pipeline (issue 3 point 7): score the items -> SurveyDesign(weights, strata=district, psu=street)
-> rake to district x sex and district x age-group joint margins -> index and dimension means with
SE and interval for every district and every street. The floor is pandas computing the same
weighted means (no SEs, no raking) on the same scored data.

Each size runs in a fresh subprocess, so its peak RSS is its own:

    python benchmarks/bench_analysis.py                        # 10k, 100k, 1M
    python benchmarks/bench_analysis.py --sizes 100000 --repeat 5
    python benchmarks/bench_analysis.py --profile 1000000      # cProfile of one pipeline run
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy
from peak import peak_rss_mb
from synthetic import SyntheticSurvey, synthetic_survey

from analysis import SurveyDesign, score

OUTCOMES = ("index", "dim_product", "dim_service", "dim_housing")
DOMAINS = ("district", "street")
DESIGN_COLUMNS = ["district", "street", "sex", "age_group", "pw"]


def scored_frame(survey: SyntheticSurvey) -> pd.DataFrame:
    """Design columns plus the 0-100 index and dimension scores."""
    scores = score(survey.data, survey.spec)
    return pd.concat([survey.data[DESIGN_COLUMNS], scores[list(OUTCOMES)]], axis=1)


def estimates(frame: pd.DataFrame, margins: dict) -> tuple[SurveyDesign, dict]:
    """Rake, then every outcome's mean with SE and interval by district and by street."""
    design = SurveyDesign(frame, weights="pw", strata="district", psu="street")
    raked = design.rake(margins)
    return raked, {(y, by): raked.mean(y, by=by) for y in OUTCOMES for by in DOMAINS}


def full_pipeline(survey: SyntheticSurvey) -> tuple[SurveyDesign, dict]:
    return estimates(scored_frame(survey), survey.margins)


def pandas_floor(frame: pd.DataFrame, weights: pd.Series | np.ndarray) -> dict:
    """Weighted means by group in plain pandas: sum(w y) / sum(w) over rows where y is present."""
    w = pd.Series(np.asarray(weights), index=frame.index)
    parts = {}
    for y in OUTCOMES:
        present = frame[y].notna()
        parts[f"wy_{y}"] = frame[y].where(present, 0.0) * w
        parts[f"w_{y}"] = w.where(present, 0.0)
    sums = pd.DataFrame(parts)
    result = {}
    for by in DOMAINS:
        grouped = sums.groupby(frame[by], observed=True).sum()
        result |= {(y, by): grouped[f"wy_{y}"] / grouped[f"w_{y}"] for y in OUTCOMES}
    return result


def timed(run: Callable[[], object], repeat: int) -> dict[str, list[float]]:
    """Wall and process-CPU seconds of each run: CPU time is less disturbed by other processes."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"wall": wall, "cpu": cpu}


def traced_peak_mb(run: Callable[[], object]) -> float:
    """Peak of Python/numpy allocations during one run (tracemalloc; slows the run, not timed)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def check_agreement(raked: SurveyDesign, results: dict, frame: pd.DataFrame) -> float:
    """The engine's domain means must equal pandas' weighted means with the raked weights."""
    reference = pandas_floor(frame, raked.weights)
    worst = 0.0
    for key, table in results.items():
        expected = reference[key].reindex(table.index.astype(str)).to_numpy()
        worst = max(worst, float(np.max(np.abs(table["estimate"].to_numpy() - expected) / expected)))
    if worst > 1e-10:
        raise SystemExit(f"engine and pandas disagree: worst relative difference {worst:.3g}")
    return worst


def worker(n: int, repeat: int) -> dict:
    """Measure one size; runs in its own process."""
    survey = synthetic_survey(n, seed=1)
    frame = scored_frame(survey)
    raked, results = estimates(frame, survey.margins)
    agreement = check_agreement(raked, results, frame)
    load = os.getloadavg()[0]
    out = {
        "n": n, "repeat": repeat, "load_1min": load, "max_rel_diff_vs_pandas": agreement,
        "floor_s": timed(lambda: pandas_floor(frame, frame["pw"]), repeat),
        "scoring_s": timed(lambda: scored_frame(survey), repeat),
        "rake_and_estimates_s": timed(lambda: estimates(frame, survey.margins), repeat),
        "full_pipeline_s": timed(lambda: full_pipeline(survey), repeat),
        "raking": {k: getattr(raked.rake_info, k) for k in ("converged", "iterations", "misfit")},
    }
    out["floor_traced_peak_mb"] = traced_peak_mb(lambda: pandas_floor(frame, frame["pw"]))
    out["pipeline_traced_peak_mb"] = traced_peak_mb(lambda: full_pipeline(survey))
    out["data_mb"] = survey.data.memory_usage(deep=True).sum() / 2**20
    out["max_rss_mb"] = peak_rss_mb()
    return out


def machine() -> dict:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines()
                  if line.startswith("Model name")), platform.processor())
    with open("/proc/meminfo") as meminfo:
        ram_kb = int(meminfo.readline().split()[1])
    return {"cpu": model, "cores": os.cpu_count(), "ram_gb": round(ram_kb / 2**20, 1),
            "python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__}


def _best(row: dict) -> dict[str, dict[str, float]]:
    return {key: {kind: min(row[key][kind]) for kind in ("wall", "cpu")}
            for key in ("floor_s", "scoring_s", "rake_and_estimates_s", "full_pipeline_s")}


def _seconds(best: dict, key: str) -> str:
    return f"{best[key]['wall']:.3f} ({best[key]['cpu']:.3f})"


def _ratio(best: dict, key: str) -> str:
    wall, cpu = (best[key][k] / best["floor_s"][k] for k in ("wall", "cpu"))
    return f"{wall:.1f}x ({cpu:.1f}x)"


def summary_table(rows: list[dict]) -> str:
    """Best of the repeats, wall seconds with CPU seconds in brackets."""
    header = ("| rows | pandas floor s | scoring s | rake + estimates s | full pipeline s "
              "| rake+est / floor | full / floor | full us/row | traced peak MB pipeline / floor "
              "| max RSS MB | load |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        best = _best(r)
        lines.append(
            f"| {r['n']:,} | {_seconds(best, 'floor_s')} | {_seconds(best, 'scoring_s')} "
            f"| {_seconds(best, 'rake_and_estimates_s')} | {_seconds(best, 'full_pipeline_s')} "
            f"| {_ratio(best, 'rake_and_estimates_s')} | {_ratio(best, 'full_pipeline_s')} "
            f"| {best['full_pipeline_s']['wall'] / r['n'] * 1e6:.2f} "
            f"| {r['pipeline_traced_peak_mb']:.0f} / {r['floor_traced_peak_mb']:.0f} "
            f"| {r['max_rss_mb']:.0f} | {r['load_1min']:.1f} |")
    return "\n".join(lines)


def linearity(rows: list[dict], kind: str) -> str:
    """Pipeline time per row of each size relative to the largest: 1.00 everywhere is linear."""
    def per_row(r: dict) -> float:
        return min(r["full_pipeline_s"][kind]) / r["n"]
    return ", ".join(f"{r['n']:,}: {per_row(r) / per_row(rows[-1]):.2f}" for r in rows)


def profile(n: int) -> None:
    survey = synthetic_survey(n, seed=1)
    full_pipeline(survey)  # warm caches and imports
    profiler = cProfile.Profile()
    profiler.runcall(full_pipeline, survey)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=0, help="runs per measure (default: 7, "
                        "more below 40k rows)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile one pipeline run of N rows")
    parser.add_argument("--json", help="also write the raw measurements here")
    parser.add_argument("--blas-threads",
                        help="pin OPENBLAS/OMP threads of each worker (default: the libraries' own "
                             "choice; the engine's estimates make no BLAS calls, so it should not "
                             "matter: compare with --blas-threads 1)")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeat)))
        return
    if args.profile:
        profile(args.profile)
        return
    blas = {"blas_threads": args.blas_threads or "default"}
    print(json.dumps(machine() | blas))
    env = dict(os.environ)
    if args.blas_threads:
        env |= {"OPENBLAS_NUM_THREADS": args.blas_threads, "OMP_NUM_THREADS": args.blas_threads}
    rows = []
    for n in args.sizes:
        # best of at least 7; small sizes run more often, so that one burst of load from other
        # processes cannot cover every run
        repeat = args.repeat or max(7, 300_000 // n)
        done = subprocess.run([sys.executable, __file__, "--worker", str(n), "--repeat", str(repeat)],
                              stdout=subprocess.PIPE, text=True, check=True, env=env)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{n:,} rows done", file=sys.stderr)
    print(summary_table(rows))
    for kind in ("wall", "cpu"):
        print(f"{kind} time per row relative to the largest size (1.00 = linear):",
              linearity(rows, kind))
    print("raking:", [r["raking"] for r in rows])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": machine() | blas, "rows": rows},
                      handle, indent=1)


if __name__ == "__main__":
    main()
