"""End-to-end times of a large wave on PostgreSQL with columnar wave snapshots (issue 13 item 4).

Usage::

    python benchmarks/bench_wave_scale.py [--responses 1000000] [--database-url postgresql://...]
                                          [--keep | --reuse DATABASE_NAME] [--prefix NAME]
                                          [--report-responses N] [--worker-report]

Builds its own database (migrations, shipped questionnaires and geography, margins), a wave
"2023" of 100,000 responses (closed, opened before the next) and a wave "2024" of
``--responses``, written with COPY (``benchmarks/synthetic.py``-like data, generated with numpy
and Arrow's CSV writer; foreign-key triggers off for the load, rows in key order so the indexes
grow at their right edge), then VACUUM ANALYZE. Then every step runs in a fresh process, so that
its wall time includes Python's start-up and its peak RSS (VmHWM) is its own:

* ``first read``: ``load_wave`` of 2024 with no snapshot (the pivot, then the Parquet written);
* ``surveyapp estimate``: the command, end to end, of index + 3 dimensions by district and street,
  raked (twice: warm snapshot; ``--estimate-only`` stops after these, so that a kept database
  can be timed again and again without growing);
* ``surveyapp export --format F --margins M`` for every format (warm snapshot);
* ``estimate after 1,000 new responses``: COPY 1,000 more into 2024, then the command again
  (the snapshot appends them);
* ``cold district report``: ``report_document`` of a 2023 district as PDF with no report cached,
  with the 2023 snapshot present, and with none (everything cold);
* the same cold report inside a process that has already built another district's report (as a
  worker has): its modules loaded, its in-memory report caches and stored reports cleared, the
  snapshot present or deleted, the cyclic collector run between jobs as a worker's is; only
  the report itself is timed (wall, CPU), peak RSS is the process's. ``--worker-report`` runs
  only this step, snapshot present (with ``--reuse``, the cheapest timing of a worker's cold
  report).

The steps run as a default Python does: ``PYTHONDONTWRITEBYTECODE`` (set on some machines, this
benchmark's among them) is taken out of their environment, so the first step writes the
modules' bytecode and the later ones read it, as a user's second command would. With it set,
every process compiled the ~80 modules of surveyapp and analysis anew (0.1-0.3 s a step).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from peak import peak_rss_mb
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARGINS = "bench-margins"
WAVE, REPORT_WAVE, REPORT_RESPONSES = "2024", "2023", 100_000
HONGKOU = "310109"
SPEC = {"waves": [WAVE], "outcomes": ["index", "dimensions"], "domains": ["district", "street"],
        "weighting": {"method": "rake", "margins": MARGINS}}
CHUNK = 250_000  # responses generated and copied at a time


def app_for(url: str, instance: str):
    from surveyapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SURVEYAPP_INSTANCE_PATH": instance,
                       "SECRET_KEY": "bench"})


def admin_engine(base_url: str) -> sa.Engine:
    return sa.create_engine(base_url, isolation_level="AUTOCOMMIT")


# ----------------------------------------------------------------------------- building the data


def populate(url: str, instance: str, responses: int, report_responses: int) -> None:
    """Schema, catalog, margins, the 100k report wave and the ``responses`` wave."""
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from surveyapp.services.catalog import questionnaire_of, sync_catalog
    from surveyapp.services.demo import demo_margin_rows
    from surveyapp.services.margins import store_margins
    from surveyapp.services.waves import create_wave

    app = app_for(url, instance)
    with app.app_context():
        upgrade()
        version = {v.key: v for v in sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])}[
            "citizen"]
        questionnaire = questionnaire_of(version)
        districts = places()
        codes = [code for code, _ in districts]
        now = datetime.now(UTC)
        older = create_wave(REPORT_WAVE, version, codes, now - timedelta(days=500),
                            now - timedelta(days=400), "open")
        wave = create_wave(WAVE, version, codes, now - timedelta(days=60), now + timedelta(days=30),
                           "open")
        _, problems = store_margins(MARGINS, "benchmark", demo_margin_rows(questionnaire, codes),
                                    questionnaire)
        assert not problems, problems
        db.session.commit()
        plan = [(older, report_responses, 1), (wave, responses, 2)]
        plan = [(w.id, as_utc(w.opens_at), n, seed) for w, n, seed in plan]
        content_hash = version.content_hash
        db.session.remove()
        for wave_id, opens_at, n, seed in plan:
            copy_wave(db.engine, questionnaire, districts, wave_id, content_hash, opens_at, n,
                      np.random.default_rng(seed))
        # statistics and the visibility map, as autovacuum leaves them on a collected wave
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def places() -> list[tuple[str, list[str]]]:
    """(district code, its street codes) for every district, detached from the session."""
    from surveyapp.extensions import db
    from surveyapp.models.survey import District

    return [(d.code, [s.code for s in d.streets])
            for d in db.session.scalars(sa.select(District).order_by(District.code))]


def as_utc(moment: datetime) -> datetime:
    """An aware time (the session gives naive ones on some drivers)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def copy_wave(engine: sa.Engine, questionnaire, districts, wave_id: int, content_hash: str,
              start: datetime, n: int, rng: np.random.Generator, spread_days: float = 50) -> None:
    """``n`` responses and their answers, COPYed in chunks in response-id order."""
    ids = np.sort(np.array([str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]))
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers per row
            for first in range(0, n, CHUNK):
                chunk = ids[first:first + CHUNK]
                responses, answers = synthetic_rows(questionnaire, districts, wave_id,
                                                    content_hash, start, chunk, rng, spread_days)
                for table, rows in (("response", responses), ("answer", answers)):
                    buffer = io.BytesIO()
                    pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
                    columns = ", ".join(rows.column_names)
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                        copy.write(buffer.getvalue())
            cursor.execute("SET session_replication_role = DEFAULT")
        raw.commit()
    finally:
        raw.close()


def synthetic_rows(questionnaire, districts, wave_id: int, content_hash: str, start: datetime,
                   ids: np.ndarray, rng: np.random.Generator, spread_days: float
                   ) -> tuple[pa.Table, pa.Table]:
    """Skewed demographics and answers with a respondent effect (as benchmarks/synthetic.py)."""
    n = len(ids)
    district = rng.integers(0, len(districts), n)
    streets = [codes for _, codes in districts]
    street = np.array([rng.choice(streets[d]) if streets[d] else None for d in district],
                      dtype=object)
    choices = {d.id: [c.value for c in d.choices] for d in questionnaire.demographics
               if d.kind == "choice"}
    seconds = rng.integers(0, int(spread_days * 86400), n)
    responses = pa.table({
        "id": ids, "wave_id": np.full(n, wave_id), "questionnaire_hash": [content_hash] * n,
        "district_code": np.array([code for code, _ in districts])[district],
        "street_code": pa.array(street, pa.string()),
        "sex": rng.choice(choices["sex"], n, p=[0.4, 0.6]),
        "age_group": rng.choice(choices["age_group"], n, p=[0.1, 0.2, 0.3, 0.4]),
        "residence_years": rng.choice(choices["residence_years"], n),
        "language": rng.choice(["zh", "en"], n, p=[0.95, 0.05]), "channel": ["demo"] * n,
        "submitted_at": pa.array(np.datetime64(start.replace(tzinfo=None), "s")
                                 + seconds.astype("timedelta64[s]")).cast(
                                     pa.timestamp("s", tz="UTC")),
        "duration_seconds": rng.integers(90, 1200, n),
    })
    effect = rng.normal(0, 1.2, n)
    items = sorted(questionnaire.items, key=lambda item: item.id)  # the primary key's order
    values = np.empty((n, len(items)), dtype=np.int64)
    for column, item in enumerate(items):
        scale = questionnaire.scales[item.scale]
        value = np.clip(np.rint(8 + effect + rng.normal(0, 1.0, n)), scale.low, scale.high)
        value = value.astype(np.int64)
        if scale.dont_know:
            value[rng.random(n) < 0.03] = scale.dont_know.value
        values[:, column] = value
    keep = (rng.random((n, len(items))) >= 0.02).ravel()  # row-major: response, then item
    answers = pa.table({
        "response_id": np.repeat(ids, len(items))[keep],
        "wave_id": np.full(keep.sum(), wave_id),
        "item_id": np.tile(np.array([item.id for item in items]), n)[keep],
        "value": values.ravel()[keep],
    })
    return responses, answers


def add_responses(url: str, instance: str, count: int) -> None:
    """``count`` new responses in the open wave, submitted now (an open wave's news)."""
    from surveyapp.extensions import db
    from surveyapp.models.survey import Wave
    from surveyapp.services.catalog import questionnaire_of

    with app_for(url, instance).app_context():
        wave = db.session.scalar(sa.select(Wave).where(Wave.label == WAVE))
        questionnaire = questionnaire_of(wave.questionnaire_version)
        districts = places()
        wave_id, content_hash = wave.id, wave.questionnaire_version.content_hash
        db.session.remove()
        copy_wave(db.engine, questionnaire, districts, wave_id, content_hash,
                  datetime.now(UTC) - timedelta(seconds=60), count,
                  np.random.default_rng(int(time.time())), spread_days=0.0005)


# ----------------------------------------------------------------------------- the steps


def run_step(step: str, url: str, instance: str, out_dir: str) -> dict:
    """One step, in this fresh process; wall time from the process's start."""
    started = float(os.environ["BENCH_STARTED"])
    ready = time.time()  # Python itself is up: what follows is the command
    os.environ.update(SURVEYAPP_DATABASE_URL=url, SURVEYAPP_INSTANCE_PATH=instance,
                      SURVEYAPP_SECRET_KEY="bench", SURVEYAPP_LANG="en")
    if step in ("estimate", "export") or step.startswith("export:"):
        from surveyapp.cli import main

        if step == "estimate":
            spec = Path(out_dir) / "spec.json"
            spec.write_text(json.dumps(SPEC))
            arguments = ["estimate", str(spec)]
        else:
            fmt = step.split(":")[1]
            arguments = ["export", "--wave", WAVE, "--format", fmt, "--margins", MARGINS,
                         "--output", str(Path(out_dir) / f"wave.{fmt}")]
        with open(os.devnull, "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                main(arguments, standalone_mode=False)
            finally:
                sys.stdout = stdout
    else:
        from surveyapp import create_app

        with create_app().app_context():
            from surveyapp.extensions import db
            from surveyapp.models.survey import Wave

            if step == "first-read":
                from surveyapp.services.estimation import load_wave

                load_wave(db.session.scalar(sa.select(Wave).where(Wave.label == WAVE)))
            elif step == "report":
                from surveyapp.services.report_cache import report_document

                wave = db.session.scalar(sa.select(Wave).where(Wave.label == REPORT_WAVE))
                report_document(wave, HONGKOU, "zh", "pdf")
            else:  # report-in-process:snapshot|none
                return report_in_process(instance, step.endswith(":snapshot"))
    return {"wall_s": round(time.time() - started, 2),
            "command_s": round(time.time() - ready, 2), "cpu_s": round(time.process_time(), 2),
            "peak_mb": round(peak_rss_mb())}


def report_in_process(instance: str, keep_snapshot: bool) -> dict:
    """A cold report in a process that built another district's report first (a worker).

    As ``surveyapp worker`` on Python 3.11, the process runs the cyclic collector only at
    safe points (surveyapp.gc_safepoints): between the two reports, not inside one."""
    from surveyapp.extensions import db
    from surveyapp.gc_safepoints import collect_if_due, collect_only_at_safe_points
    from surveyapp.models.survey import Wave
    from surveyapp.services import report_cache
    from surveyapp.storage import open_store

    collect_only_at_safe_points()
    wave = db.session.scalar(sa.select(Wave).where(Wave.label == REPORT_WAVE))
    other = next(d.code for d in wave.districts if d.code != HONGKOU)
    report_cache.report_document(wave, other, "zh", "pdf")
    report_cache._inputs.clear()  # the analysed waves and contents it keeps in memory
    report_cache._reports.clear()
    store = open_store(None, instance)
    for key in store.keys("reports/") + ([] if keep_snapshot else
                                         store.keys(f"snapshots/w{wave.id}/")):
        store.delete(key)
    db.session.expire_all()
    collect_if_due()  # the worker's safe point before its next job
    began, cpu = time.perf_counter(), time.process_time()
    report_cache.report_document(wave, HONGKOU, "zh", "pdf")
    return {"wall_s": round(time.perf_counter() - began, 2), "command_s": None,
            "cpu_s": round(time.process_time() - cpu, 2), "peak_mb": round(peak_rss_mb())}


def step(name: str, label: str, url: str, instance: str, out: str) -> dict:
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
           "BENCH_STARTED": repr(time.time())}
    done = subprocess.run([sys.executable, __file__, "--step", name, "--url", url, "--instance",
                           instance, "--out", out], capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(f"step {name} failed:\n{done.stderr[-3000:]}")
    result = {"step": label, **json.loads(done.stdout.strip().splitlines()[-1])}
    print(f"| {label} | {result['wall_s']} | {result['command_s']} | {result['cpu_s']} | "
          f"{result['peak_mb']} | {load_average():.1f} |", flush=True)
    return result


def load_average() -> float:
    return os.getloadavg()[0]


def measure(url: str, instance: str, out: str, *, only_worker_report: bool = False,
            estimate_only: bool = False) -> list[dict]:
    """Every step; ``only_worker_report``: the cold report in a started process alone;
    ``estimate_only``: the first read and the two warm estimates alone."""
    from surveyapp.storage import open_store

    shutil.rmtree(Path(instance) / "store", ignore_errors=True)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        report_wave = conn.execute(sa.text("SELECT id FROM wave WHERE label = :label"),
                                   {"label": REPORT_WAVE}).scalar_one()
    engine.dispose()
    print(f"load average {load_average():.1f}")
    print("| step | wall s | of which command s | CPU s | peak RSS MB | load |\n"
          "|---|---|---|---|---|---|")
    if only_worker_report:
        return [step("report-in-process:snapshot", "cold district report 2023 (100k), PDF, in a "
                     "started process, snapshot present", url, instance, out)]
    results = [step("first-read", "first read of 2024 (no snapshot: pivot + Parquet)", url,
                    instance, out)]
    for n in (1, 2):
        results.append(step("estimate", f"surveyapp estimate, warm ({n})", url, instance, out))
    if estimate_only:
        print(f"load average {load_average():.1f}")
        return results
    for fmt in ("csv", "parquet", "sav", "dta"):
        results.append(step(f"export:{fmt}", f"surveyapp export --format {fmt}", url, instance,
                            out))
    add_responses(url, instance, 1000)
    results.append(step("estimate", "surveyapp estimate after 1,000 new responses", url,
                        instance, out))
    results.append(step("estimate", "surveyapp estimate, warm again", url, instance, out))
    local = open_store(None, instance)
    for cold_snapshot in (True, False):
        # the built reports live in the store: the second report would be served, not built
        for key in local.keys("reports/") + (local.keys(f"snapshots/w{report_wave}/")
                                             if cold_snapshot else []):
            local.delete(key)
        label = ("cold district report 2023 (100k), PDF, no snapshot either" if cold_snapshot
                 else "cold district report 2023 (100k), PDF, snapshot present")
        results.append(step("report", label, url, instance, out))
    for keep in (True, False):
        label = ("cold district report 2023 (100k), PDF, in a started process, snapshot "
                 + ("present" if keep else "deleted"))
        results.append(step(f"report-in-process:{'snapshot' if keep else 'none'}", label, url,
                            instance, out))
    print(f"load average {load_average():.1f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("SURVEYAPP_TEST_DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", metavar="NAME", help="run the steps on this kept database")
    parser.add_argument("--prefix", default="surveyapp_bench_scale",
                        help="name prefix of a new benchmark database (shared servers: yours)")
    parser.add_argument("--report-responses", type=int, default=REPORT_RESPONSES,
                        help="responses of the report wave 2023")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker-report", action="store_true",
                        help="time only the cold report in a started process, snapshot present "
                             "(the main wave can then be small)")
    parser.add_argument("--estimate-only", action="store_true",
                        help="run the first read and the two warm estimates only (a short "
                             "timed run that adds no responses to a kept database)")
    for hidden in ("--step", "--url", "--instance", "--out", "--populate"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.url, args.instance, args.out)))
        return
    if args.populate:
        populate(args.url, args.instance, int(args.populate), args.report_responses)
        return
    if not args.database_url:
        sys.exit("bench_wave_scale: give --database-url or set SURVEYAPP_TEST_DATABASE_URL")
    from surveyapp.config import normalise_database_url

    base = normalise_database_url(args.database_url)
    name = args.reuse or f"{args.prefix}_{args.responses}_{os.getpid()}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    if not args.reuse:
        with admin_engine(base).connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as instance, tempfile.TemporaryDirectory() as out:
            if not args.reuse:
                began = time.perf_counter()
                subprocess.run([sys.executable, __file__, "--populate", str(args.responses),
                                "--report-responses", str(args.report_responses),
                                "--url", url, "--instance", instance], check=True)
                print(f"built {args.responses:,} + {args.report_responses:,} responses in "
                      f"{time.perf_counter() - began:.0f} s", flush=True)
            results = measure(url, instance, out, only_worker_report=args.worker_report,
                              estimate_only=args.estimate_only)
            if args.json:
                Path(args.json).write_text(json.dumps(
                    {"responses": args.responses, "results": results}, indent=1))
    finally:
        if args.keep or args.reuse:
            print(f"kept database {name}")
        else:
            with admin_engine(base).connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
