"""Time the district reports on a wave of 100k responses (issue 4 point 6).

Builds (once, then reuses) a database with two demo citizen waves of ``--responses`` each
(2023 and 2024, so every report carries a change), 16 districts and the demo margins, then times:

* the analysis behind every report of the 2024 wave: load both waves from the database, score,
  rake, estimate every score by district and city-wide, compare with 2023;
* one district report (Hongkou) as PDF + Excel, cold: analysis included;
* all 16 district reports as PDF + Excel, sharing one analysis;
* the same report served again from the cache (data unchanged).

    python benchmarks/bench_reports.py                          # 100k responses per wave
    python benchmarks/bench_reports.py --responses 10000 --database /tmp/small.db
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from peak import peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
HONGKOU = "310109"


def build_database(responses: int) -> None:
    """Migrate, load the shipped files, and add the two citizen waves and demo margins."""
    from flask import current_app

    from surveyapp.extensions import db
    from surveyapp.models.survey import utcnow
    from surveyapp.services.catalog import sync_catalog
    from surveyapp.services.demo import (
        DemoWorld,
        build_demo_wave,
        demo_districts,
        demo_waves,
        ensure_demo_margins,
    )

    sync_catalog(current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    db.session.commit()
    districts = demo_districts()
    world = DemoWorld(2024, [d.code for d in districts])
    per_district = responses // len(districts)
    citizen = [w for w in demo_waves(utcnow()) if w.questionnaire_key == "citizen"]
    for index, spec in enumerate(citizen):
        build_demo_wave(spec, world, districts, per_district, np.random.default_rng([2024, index]))
        db.session.commit()
    ensure_demo_margins(districts)
    db.session.commit()


def timed(label: str, results: list, function, *args, **kwargs):
    started = time.perf_counter()
    cpu = time.process_time()
    value = function(*args, **kwargs)
    results.append((label, time.perf_counter() - started, time.process_time() - cpu))
    print(f"{label:<58} {results[-1][1]:8.2f} s wall {results[-1][2]:8.2f} s CPU", flush=True)
    return value


def run(responses: int) -> list:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from surveyapp.models.survey import Response
    from surveyapp.reports.excel import build_workbook
    from surveyapp.reports.pdf import build_pdf
    from surveyapp.services.estimation import load_wave
    from surveyapp.services.report_cache import report_document
    from surveyapp.services.reporting import (
        district_report,
        find_wave,
        report_inputs,
        suppress_below,
    )
    from surveyapp.services.wave_results import analyse_wave

    upgrade()
    if db.session.scalar(sa.select(sa.func.count(Response.id))) == 0:
        build_database(responses)
    wave = find_wave("2024", "citizen", "en")
    count = db.session.scalar(
        sa.select(sa.func.count(Response.id)).where(Response.wave_id == wave.id))
    print(f"wave 2024: {count:,} responses (and as many in 2023); 16 districts\n")
    results: list = []
    timed("load + score one wave (responses_frame, score)", results, load_wave, wave)
    timed("analyse one wave (load, score, rake, 18 scores x 17 domains)", results, analyse_wave, wave)
    inputs = timed("analysis for the reports (2024 + 2023 + changes)", results, report_inputs, wave)
    limit = suppress_below()

    def one_district(district: str) -> None:
        report = district_report(inputs, district, "zh", limit)
        build_pdf(report)
        build_workbook(report)

    timed("one district report, PDF + Excel, analysis shared", results, one_district, HONGKOU)
    districts = [d.code for d in wave.districts]
    timed(f"all {len(districts)} district reports, PDF + Excel, analysis shared", results,
          lambda: [one_district(d) for d in districts])

    def cold() -> None:
        report_document(wave, HONGKOU, "zh", "pdf")
        report_document(wave, HONGKOU, "zh", "xlsx")

    timed("one district report, PDF + Excel, cold (report_document)", results, cold)
    timed("the same two files again, from the cache", results, cold)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=100_000, help="responses per wave")
    parser.add_argument("--database", default=None,
                        help="SQLite file to build or reuse (default: a fresh temporary one)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench_reports_"))
    database = Path(args.database) if args.database else workdir / "bench.db"
    os.environ["SURVEYAPP_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["SURVEYAPP_INSTANCE_PATH"] = str(workdir)
    sys.path.insert(0, str(ROOT))
    from surveyapp import create_app

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, database {database}")
    started = time.perf_counter()
    try:
        with create_app().app_context():
            run(args.responses)
    finally:
        shutil.rmtree(workdir / "store", ignore_errors=True)  # the built reports
        if not args.database:
            shutil.rmtree(workdir, ignore_errors=True)
    peak = peak_rss_mb()
    print(f"\ntotal {time.perf_counter() - started:.1f} s, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
