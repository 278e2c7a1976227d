"""Export and re-estimate a 1M-response wave: wall time and peak memory per step.

Usage::

    python benchmarks/bench_export.py [--responses 1000000] [--database-url postgresql://...]
                                      [--keep | --reuse DATABASE_NAME]

Needs PostgreSQL (``--database-url``, else ``SURVEYAPP_TEST_DATABASE_URL``). The script creates
its own database, builds the schema with the migrations, loads the shipped questionnaires,
geography and demo margins, writes the synthetic wave "2024" with COPY, and then runs every
step in a fresh Python process so that each step's peak RSS is its own:

* export csv / parquet / sav / dta: ``surveyapp.exports.wave.export_wave`` with weights raked
  to the margins (load from the database, score, rake, write the file and its R snippet);
* estimate: ``run_spec`` of a spec with index and the 3 dimensions, raked, by district and by
  street (load, score, rake, 12 tables, fingerprint), as ``surveyapp estimate`` runs it.

Building the wave takes minutes: ``--keep`` leaves the database in place (its name is printed)
and ``--reuse NAME`` runs the steps again on it.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from peak import peak_rss_mb
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARGINS = "bench-margins"
WAVE = "2024"
STEPS = ("export:csv", "export:parquet", "export:sav", "export:dta", "estimate")
SPEC = {"waves": [WAVE], "outcomes": ["index", "dimensions"], "domains": ["district", "street"],
        "weighting": {"method": "rake", "margins": MARGINS}}


def app_for(url: str, instance: str):
    from surveyapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SURVEYAPP_INSTANCE_PATH": instance,
                       "SECRET_KEY": "bench"})


def create_database(base_url: str) -> str:
    name = f"surveyapp_bench_export_{os.getpid()}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, url: str) -> None:
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def populate(url: str, instance: str, responses: int, seed: int = 1) -> float:
    """Schema, catalog, wave, margins and ``responses`` synthetic responses; seconds taken."""
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from surveyapp.models.survey import District
    from surveyapp.services.catalog import questionnaire_of, sync_catalog
    from surveyapp.services.demo import demo_margin_rows
    from surveyapp.services.margins import store_margins
    from surveyapp.services.waves import create_wave

    started = time.perf_counter()
    app = app_for(url, instance)
    with app.app_context():
        upgrade()
        versions = {v.key: v for v in sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])}
        version = versions["citizen"]
        questionnaire = questionnaire_of(version)
        districts = list(db.session.scalars(sa.select(District).order_by(District.code)))
        codes = [d.code for d in districts]
        now = datetime.now(UTC)
        wave = create_wave(WAVE, version, codes, now - timedelta(days=60), now - timedelta(days=1),
                           "open")
        _, problems = store_margins(MARGINS, "benchmark", demo_margin_rows(
            questionnaire, codes), questionnaire)
        assert not problems, problems
        db.session.commit()
        frames = synthetic_wave(questionnaire, districts, wave.id, version.content_hash,
                                wave.opens_at, responses, np.random.default_rng(seed))
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                for table, frame in frames.items():
                    columns = ", ".join(frame.columns)
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                        for start in range(0, len(frame), 500_000):
                            buffer = io.StringIO()
                            frame.iloc[start:start + 500_000].to_csv(buffer, index=False,
                                                                    header=False)
                            copy.write(buffer.getvalue())
            raw.commit()
        finally:
            raw.close()
        # Statistics and the visibility map, as autovacuum leaves them on a collected wave:
        # without the map, responses_frame's index-only scan would visit the heap per answer.
        # The session's open transaction would keep VACUUM from marking the new rows visible.
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def synthetic_wave(questionnaire, districts, wave_id: int, content_hash: str, opens_at,
                   n: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Responses (skewed demographics) and long-format answers with a respondent effect."""
    district_index = rng.integers(0, len(districts), n)
    streets = [[s.code for s in d.streets] or [None] for d in districts]
    sizes = np.array([len(s) for s in streets])
    street_pick = (rng.random(n) * sizes[district_index]).astype(int)
    street_codes = [streets[d][s] for d, s in zip(district_index, street_pick)]
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]
    choices = {d.id: [c.value for c in d.choices] for d in questionnaire.demographics
               if d.kind == "choice"}
    responses = pd.DataFrame({
        "id": ids, "wave_id": wave_id, "questionnaire_hash": content_hash,
        "district_code": [districts[i].code for i in district_index], "street_code": street_codes,
        "sex": rng.choice(choices["sex"], n, p=[0.4, 0.6]),
        "age_group": rng.choice(choices["age_group"], n, p=[0.1, 0.2, 0.3, 0.4]),
        "residence_years": rng.choice(choices["residence_years"], n),
        "language": rng.choice(["zh", "en"], n, p=[0.95, 0.05]), "channel": "demo",
        "submitted_at": opens_at + pd.to_timedelta(rng.integers(0, 50 * 86400, n), unit="s"),
        "duration_seconds": rng.integers(90, 1200, n),
    })
    effect = rng.normal(0, 1.2, n)
    answers = []
    for item in questionnaire.items:
        scale = questionnaire.scales[item.scale]
        values = np.clip(np.rint(8 + effect + rng.normal(0, 1.0, n)), scale.low, scale.high)
        values = values.astype(int)
        if scale.dont_know:
            values[rng.random(n) < 0.03] = scale.dont_know.value
        keep = rng.random(n) >= 0.02
        answers.append(pd.DataFrame({"response_id": responses["id"][keep].to_numpy(),
                                     "wave_id": wave_id, "item_id": item.id,
                                     "value": values[keep]}))
    return {"response": responses, "answer": pd.concat(answers, ignore_index=True)}


def run_step(step: str, url: str, instance: str, out_dir: str) -> dict:
    """One step, in this (fresh) process: wall time, CPU time and peak RSS."""
    app = app_for(url, instance)
    with app.app_context():
        wall, cpu = time.perf_counter(), time.process_time()
        if step == "estimate":
            from surveyapp.services.estimation import run_spec
            from surveyapp.specs import spec_from_dict

            outcome = run_spec(spec_from_dict(SPEC))
            detail = f"{len(outcome.table)} estimates, {outcome.response_count} responses"
        else:
            from surveyapp.exports.wave import export_wave

            fmt = step.split(":")[1]
            path, _, rows = export_wave(WAVE, fmt, Path(out_dir) / f"wave.{fmt}", margins=MARGINS)
            detail = f"{rows} rows, {path.stat().st_size / 1e6:.0f} MB"
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = peak_rss_mb()
    return {"step": step, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_mb": round(peak_mb), "detail": detail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("SURVEYAPP_TEST_DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", metavar="NAME", help="run the steps on this kept database")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.url, args.instance, args.out)))
        return
    if not args.database_url:
        sys.exit("bench_export: give --database-url or set SURVEYAPP_TEST_DATABASE_URL")
    from surveyapp.config import normalise_database_url

    base = normalise_database_url(args.database_url)
    if args.reuse:
        url = make_url(base).set(database=args.reuse).render_as_string(hide_password=False)
    else:
        url = create_database(base)
    try:
        with tempfile.TemporaryDirectory() as instance, tempfile.TemporaryDirectory() as out:
            if not args.reuse:
                seconds = populate(url, instance, args.responses)
                print(f"populated {args.responses} responses in {seconds:.0f} s", flush=True)
            print("| step | wall s | CPU s | peak RSS MB | output |")
            print("|---|---|---|---|---|")
            for step in STEPS:
                done = subprocess.run(
                    [sys.executable, __file__, "--step", step, "--url", url, "--instance",
                     instance, "--out", out], capture_output=True, text=True, check=True)
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"| {r['step']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_mb']} | "
                      f"{r['detail']} |", flush=True)
    finally:
        if args.keep or args.reuse:
            print(f"kept database {make_url(url).database}")
        else:
            drop_database(base, url)


if __name__ == "__main__":
    main()
