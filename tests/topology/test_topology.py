"""The production topology on one machine: PostgreSQL, Redis, two gunicorn web servers on two
ports sharing a store folder (as hosts share SURVEYAPP_STORAGE_URL), and one worker.

A report asked of one server is built once (by the worker) and served by the other; a rate limit
counted through one holds on the other; a worker killed mid-job (kill -9) leaves the job to the
worker started after it. Skipped unless SURVEYAPP_TEST_DATABASE_URL names a PostgreSQL server
and Redis answers on 127.0.0.1:6379 (database 3).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from surveyapp import create_app
from surveyapp.config import test_database_url as postgres_url
from surveyapp.extensions import db
from surveyapp.models.jobs import Job
from surveyapp.services import jobs
from surveyapp.services.tokens import create_token
from tests.conftest import test_config as base_config
from tests.web import slow_job
from tests.web.factories import HONGKOU
from tests.web.report_data import SUPPRESS_BELOW, make_report_waves
from tests.web.staff_fixtures import PASSWORD, make_user

requests = pytest.importorskip("requests")
redis = pytest.importorskip("redis")
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/3"
PORTS = (5161, 5162)


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        pytest.skip("topology test: no Redis on 127.0.0.1:6379")


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    base = postgres_url()
    if not base:
        pytest.skip("topology test: set SURVEYAPP_TEST_DATABASE_URL (PostgreSQL)")
    _redis_or_skip()
    redis.Redis.from_url(REDIS_URL).flushdb()
    name = f"surveyapp_topology_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    work = tmp_path_factory.mktemp("topology")
    settings = {"SURVEYAPP_DATABASE_URL": url, "SURVEYAPP_QUEUE_URL": REDIS_URL,
                "SURVEYAPP_RATELIMIT_STORAGE_URL": REDIS_URL,
                "SURVEYAPP_RATELIMIT_KEY_PREFIX": f"topology-{name}",
                "SURVEYAPP_RATELIMIT_API": "5 per minute",
                "SURVEYAPP_STORAGE_URL": f"file://{work / 'store'}",
                "SURVEYAPP_SECRET_KEY": "topology-secret", "SURVEYAPP_JOB_LEASE_SECONDS": "1",
                "SURVEYAPP_SUPPRESS_BELOW": str(SUPPRESS_BELOW)}
    app = create_app({**base_config(url, work / "test-instance"),
                      **{k: v for k, v in settings.items() if not k.startswith("SURVEYAPP_DATA")},
                      "SURVEYAPP_JOB_LEASE_SECONDS": 1, "SURVEYAPP_SUPPRESS_BELOW": SUPPRESS_BELOW})
    processes: list[subprocess.Popen] = []
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            waves = make_report_waves()
            analyst = make_user("analyst", username="topology-analyst")
            _token_row, token = create_token(analyst.username)
            db.session.commit()
            wave_id = waves.current.id

        def start(command: list[str], instance: str) -> subprocess.Popen:
            env = {**os.environ, **settings, "SURVEYAPP_INSTANCE_PATH": str(work / instance)}
            with open(work / f"{instance}.log", "ab") as log:
                process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
            processes.append(process)
            return process

        for port in PORTS:  # each its own instance folder: only the store is shared
            start([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "1",
                   "-b", f"127.0.0.1:{port}", "wsgi:app"], f"web{port}")
        worker = [sys.executable, "-c", slow_job.WORKER_SCRIPT, str(ROOT)]
        start(worker, "worker")
        for port in PORTS:
            _wait(lambda port=port: _up(port), f"the web server on {port}", seconds=240)
        yield {"app": app, "wave": wave_id, "token": token, "start": start, "worker": worker,
               "processes": processes, "work": work}
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(45)  # gunicorn's graceful timeout is 30 s
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with app.app_context():
            db.engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok
    except requests.RequestException:  # not listening yet, or still importing
        return False


def _signed_in(port: int) -> requests.Session:
    session = requests.Session()
    form = session.get(f"http://127.0.0.1:{port}/auth/login").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or \
        re.search(r'name="csrf_token" value="([^"]+)"', form)
    response = session.post(f"http://127.0.0.1:{port}/auth/login", data={
        "csrf_token": csrf.group(1), "username": "topology-analyst", "password": PASSWORD})
    assert response.ok, response.status_code
    return session


def test_a_report_asked_of_one_server_is_built_once_and_served_by_the_other(topology):
    first, second = (_signed_in(port) for port in PORTS)
    path = f"/bureau/{topology['wave']}/{HONGKOU}/report.pdf"
    asked = first.get(f"http://127.0.0.1:{PORTS[0]}{path}")
    assert asked.status_code == 202 and 'http-equiv="refresh"' in asked.text
    _wait(lambda: first.get(f"http://127.0.0.1:{PORTS[0]}{path}").status_code == 200,
          "the worker to build the report")
    served = second.get(f"http://127.0.0.1:{PORTS[1]}{path}")
    assert served.status_code == 200 and served.content.startswith(b"%PDF")
    # The file is in the store a moment before the worker records its job done.
    _wait(lambda: "running" not in [state for state, _ in _report_jobs(topology)],
          "the worker to record the job")
    assert _report_jobs(topology) == [("done", 1)]


def _report_jobs(topology) -> list[tuple[str, int]]:
    with topology["app"].app_context():
        built = db.session.scalars(sa.select(Job).where(Job.kind == "report")).all()
        return [(job.state, job.attempts) for job in built]


def test_a_rate_limit_counted_on_one_server_holds_on_the_other(topology):
    headers = {"Authorization": f"Bearer {topology['token']}"}
    for _ in range(5):
        assert requests.get(f"http://127.0.0.1:{PORTS[0]}/api/v1/waves",
                            headers=headers).status_code == 200
    refused = requests.get(f"http://127.0.0.1:{PORTS[1]}/api/v1/waves", headers=headers)
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_a_worker_killed_mid_job_leaves_the_job_to_the_next(topology, monkeypatch):
    app, marker = topology["app"], topology["work"] / "slow-started"
    monkeypatch.setitem(jobs.HANDLERS, slow_job.KIND, slow_job.HANDLER)
    with app.app_context():
        job_id = jobs.submit(slow_job.KIND, {"marker": str(marker)}).id
    _wait(marker.exists, "the worker to start the job")
    os.kill(int(marker.read_text()), signal.SIGKILL)
    topology["start"](topology["worker"], "worker2")
    with app.app_context():
        def done() -> bool:
            db.session.expire_all()
            return db.session.get(Job, job_id).state == "done"

        _wait(done, "the second worker to finish the job")
        assert db.session.get(Job, job_id).attempts == 2


def _wait(condition, what: str, seconds: float = 120) -> None:
    """Generous deadlines: five Python processes start on what may be a small, busy CI box."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
