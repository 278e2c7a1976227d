"""Time and memory of domain means in a design without PSUs (each row its own unit), raked.

This is the district reports' design: ``SurveyDesign(frame, weights="pw", strata="district")``
with no ``psu``, raked to district x sex and district x age group, then the index mean by street
(~200 domains) and by district (16). Every row being a unit, the variance is where the cost of
such a design lies. Each size runs in a fresh subprocess, so its peak RSS is its own:

    python benchmarks/bench_row_units.py                       # 100k and 1M
    python benchmarks/bench_row_units.py --sizes 100000 --repeat 5
    PYTHONPATH=/tmp/old python benchmarks/bench_row_units.py   # an older engine, exported there
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bench_analysis import scored_frame, timed, traced_peak_mb
from peak import peak_rss_mb
from synthetic import synthetic_survey

import analysis
from analysis import SurveyDesign


def worker(n: int, repeat: int) -> dict:
    """Measure one size; runs in its own process."""
    survey = synthetic_survey(n, seed=1)
    frame = scored_frame(survey)
    raked = SurveyDesign(frame, weights="pw", strata="district").rake(survey.margins)
    street = raked.mean("index", by="street")
    out = {"n": n, "repeat": repeat, "engine": os.path.dirname(analysis.__file__),
           "load_1min": os.getloadavg()[0], "domains": len(street),
           # printed so that runs of two engines can be checked against each other
           "street_se_sum": float(street["se"].sum())}
    for by in ("street", "district"):
        out[f"mean_by_{by}_s"] = timed(lambda by=by: raked.mean("index", by=by), repeat)
        out[f"mean_by_{by}_traced_peak_mb"] = traced_peak_mb(lambda by=by: raked.mean("index", by=by))
    out["covmat_by_district_s"] = timed(
        lambda: raked.mean("index", by="district", covmat=True), repeat)
    out["max_rss_mb"] = peak_rss_mb()
    return out


def _ms(row: dict, key: str) -> str:
    return f"{min(row[key]['wall']) * 1e3:.0f} ({min(row[key]['cpu']) * 1e3:.0f})"


def summary_table(rows: list[dict]) -> str:
    """Best of the repeats: wall ms with CPU ms in brackets; traced peak of one call."""
    header = ("| rows | mean by street ms | peak MB | mean by district ms | peak MB "
              "| by district, covmat ms | max RSS MB | load |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        lines.append(f"| {r['n']:,} | {_ms(r, 'mean_by_street_s')} "
                     f"| {r['mean_by_street_traced_peak_mb']:.0f} | {_ms(r, 'mean_by_district_s')} "
                     f"| {r['mean_by_district_traced_peak_mb']:.0f} "
                     f"| {_ms(r, 'covmat_by_district_s')} "
                     f"| {r['max_rss_mb']:.0f} | {r['load_1min']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeat)))
        return
    rows = []
    for n in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--worker", str(n), "--repeat",
                               str(args.repeat)], stdout=subprocess.PIPE, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{n:,} rows done ({rows[-1]['engine']}, street SE sum "
              f"{rows[-1]['street_se_sum']:.12g})", file=sys.stderr)
    print(summary_table(rows))


if __name__ == "__main__":
    main()
