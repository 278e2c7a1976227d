"""Faults under load, on the real server: gunicorn (gunicorn.conf.py, gthread workers) in front
of a private PostgreSQL that the test restarts, and a worker killed mid-request.

Residents keep answering from several threads while the fault happens. Whatever happens:
no answer is a 500 (a lost database gives the bilingual 503 page), every response answered 303
is stored exactly once with all its answers, and the service answers again within 2 s of the
database coming back (or of the worker's death), without restarting gunicorn.

The PostgreSQL server is the test's own (initdb + pg_ctl from /usr/lib/postgresql/15/bin, run
as the ``postgres`` user, in a temporary folder, on a free port): the shared server other test
sessions use is never touched. The test skips only if those binaries are missing.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from surveyapp import create_app
from surveyapp.config import PROJECT_ROOT
from tests.web.factories import form_fields

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RESIDENTS = 6
RECOVERY_LIMIT = 2.0  # seconds from the database (or a worker) being back to a good answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster owned by the ``postgres`` OS user."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="surveyapp-faults-pg-"))
        self.data, self.port = self.root / "data", free_port()
        owner = pwd.getpwnam("postgres")
        os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command) -> None:
        prefix = [] if os.geteuid() == pwd.getpwnam("postgres").pw_uid else \
            ["runuser", "-u", "postgres", "--"]
        subprocess.run([*prefix, *map(str, command)], check=True, capture_output=True,
                       timeout=120, cwd=self.root)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=50")
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "log",
                          "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"fault tests need PostgreSQL 15's initdb and pg_ctl in {PG_BIN}")
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def served(private_postgres) -> Iterator[Server]:
    """The migrated private database with an open wave, served by gunicorn."""
    instance = Path(tempfile.mkdtemp(prefix="surveyapp-faults-instance-"))
    secret = uuid.uuid4().hex
    wave_id, bodies, items = prepare(private_postgres.url, instance, secret)
    env = {**os.environ, "SURVEYAPP_DATABASE_URL": private_postgres.url,
           "SURVEYAPP_SECRET_KEY": secret, "SURVEYAPP_INSTANCE_PATH": str(instance),
           # every resident here shares 127.0.0.1: per-address limits would answer 429
           "SURVEYAPP_RATELIMIT_ENABLED": "0"}
    server = Server(env, instance / "gunicorn.log", wave_id, bodies, items)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(instance, ignore_errors=True)


def prepare(url: str, instance: Path, secret: str) -> tuple[int, list[dict[str, str]], int]:
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from tests.web.factories import make_wave, questionnaire_for, valid_answers

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
                      "SURVEYAPP_INSTANCE_PATH": str(instance)})
    with app.app_context():
        upgrade()
        wave = make_wave(districts=["310109", "310110"])
        bodies = [valid_answers(wave, seed=n, district=("310109", "310110")[n % 2])
                  for n in range(40)]
        result = wave.id, bodies, len(questionnaire_for(wave).items)
        db.session.remove()
        db.engine.dispose()
    return result


class Server:
    """gunicorn -c gunicorn.conf.py with 2 gthread workers on a free port."""

    def __init__(self, env: dict[str, str], log: Path, wave_id: int, bodies, items: int):
        self.port, self.log, self.wave_id, self.bodies, self.items = \
            free_port(), log, wave_id, bodies, items
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
             "-w", "2", "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log_file)
        assert self.healthy_within(90), log.read_text()[-3000:]

    def healthy_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


@dataclass
class Load:
    """Residents answering in threads until stopped: what they were told, and what they sent."""

    server: Server
    statuses: Counter = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    unavailable_pages: list[str] = field(default_factory=list)
    cut: int = 0  # requests that got no answer at all (a worker killed under them)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, resident: int) -> None:
        base, wave = self.server.base, self.server.wave_id
        number = 0
        while not self.stop.is_set():
            number += 1
            marker = f"fault-{resident}-{number}-{uuid.uuid4().hex[:8]}"
            try:
                with requests.Session() as browser:
                    page = browser.get(f"{base}/s/{wave}", timeout=30)
                    self.note(page)
                    if page.status_code != 200:
                        time.sleep(0.05)
                        continue
                    body = {**form_fields(page.text),
                            **self.server.bodies[number % len(self.server.bodies)],
                            "comment": marker}
                    answer = browser.post(f"{base}/s/{wave}", data=body, timeout=30,
                                          allow_redirects=False)
                    self.note(answer)
                    if answer.status_code == 303:
                        with self.lock:
                            self.accepted.append(marker)
            except requests.RequestException:
                with self.lock:
                    self.cut += 1

    def note(self, answer: requests.Response) -> None:
        with self.lock:
            self.statuses[answer.status_code] += 1
            if answer.status_code == 503:
                self.unavailable_pages.append(answer.text)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(RESIDENTS)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def stored(url: str) -> tuple[Counter, Counter]:
    """Responses and answers per comment marker in the private database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            responses = Counter(dict(conn.execute(sa.text(
                "SELECT comment, count(*) FROM response GROUP BY comment")).all()))
            answers = Counter(dict(conn.execute(sa.text(
                "SELECT r.comment, count(*) FROM answer a JOIN response r ON r.id = a.response_id"
                " GROUP BY r.comment")).all()))
    finally:
        engine.dispose()
    return responses, answers


def assert_nothing_acknowledged_was_lost(load: Load, url: str, items: int) -> None:
    responses, answers = stored(url)
    assert load.accepted, "no response was accepted at all"
    assert all(responses[m] == 1 for m in load.accepted), "an accepted response was lost or doubled"
    assert all(answers[m] == items for m in load.accepted), "an accepted response lost answers"
    assert not any(status >= 500 and status != 503 for status in load.statuses), load.statuses


def test_restarting_the_database_mid_load(served, private_postgres):
    with Load(served) as load:
        time.sleep(2)
        private_postgres.stop("fast")
        time.sleep(1.5)  # the outage: residents are told 503, nothing is stored
        private_postgres.start()
        back = time.monotonic()
        assert served.healthy_within(RECOVERY_LIMIT), "no answer within 2 s of the database"
        recovered = time.monotonic() - back
        accepted_before = len(load.accepted)
        time.sleep(2)
        assert len(load.accepted) > accepted_before, "no response accepted after the restart"

    assert recovered <= RECOVERY_LIMIT
    assert load.statuses[503] > 0, "the outage was not seen"
    assert all("服务暂时无法连接数据库" in page and "cannot reach its database" in page
               for page in load.unavailable_pages)
    assert_nothing_acknowledged_was_lost(load, private_postgres.url, served.items)


def test_killing_a_worker_mid_load(served, private_postgres):
    with Load(served) as load:
        time.sleep(2)
        victim = served.workers()[0]
        os.kill(victim, signal.SIGKILL)
        assert served.healthy_within(RECOVERY_LIMIT), "no answer within 2 s of the kill"
        accepted_before = len(load.accepted)
        time.sleep(2)
        assert len(load.accepted) > accepted_before

    assert victim not in served.workers()
    assert_nothing_acknowledged_was_lost(load, private_postgres.url, served.items)
