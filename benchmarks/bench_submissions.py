"""The residents' front door under load: gunicorn on PostgreSQL, as an operator would run it.

Creates its own database on the PostgreSQL server (a uniquely named one, dropped at the end),
builds it through the migrations with the shipped questionnaires and one open citizen wave of
all 16 districts, then for each worker class (sync, and gthread with 2 threads, the setting of
gunicorn.conf.py, and with 4) starts ``gunicorn -c gunicorn.conf.py -w 2`` on ``wsgi:app`` and
measures, in the same run:

* ``GET /healthz`` (one database round trip): the floor every other figure is compared to;
* ``GET /`` (landing page) and ``GET /s/<wave>`` (the form);
* resident cycles: a resident with its own cookies GETs the form and POSTs a complete answer
  (no redirect followed), at 16 and at 64 concurrent residents.

The clients are one event loop of non-blocking sockets (benchmarks/http_load.py), each request
on a new connection, so that the load generator takes little of the CPU it shares with the
server and adds no queueing of its own to the latencies.

Every POST carries a unique marker in its comment; afterwards each marker answered 303 must be
stored exactly once, with all its answers, and no other marker at all. Worker deaths are read
from gunicorn's log (signals, non-zero exits, timeouts). Exit status 1 if a check fails.

    python benchmarks/bench_submissions.py                      # both worker classes, 10 s phases
    python benchmarks/bench_submissions.py --seconds 20 --worker-class gthread --threads 2
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import http_load
from http_load import Client, Reply, Request, repeat

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
NAME, VALUE = re.compile(r'name="([^"]+)"'), re.compile(r'value="([^"]*)"')
DEATHS = re.compile(r"was sent SIG\w+|exited with code|WORKER TIMEOUT|Worker failed to boot")
TARGETS = {"form GET / floor": 0.50, "accepted at 64 / floor": 0.20}
P99_LIMIT_MS = 250.0


# --- the database ----------------------------------------------------------------------------

def create_database(server_url: str) -> str:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from surveyapp.config import normalise_database_url

    name = f"surveyapp_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(normalise_database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(normalise_database_url(server_url)).set(database=name) \
        .render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from surveyapp.config import normalise_database_url

    admin = sa.create_engine(normalise_database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@dataclass(frozen=True)
class World:
    """What the clients need: the wave, valid answer bodies, the number of rated items."""

    wave_id: int
    bodies: tuple[dict[str, str], ...]
    items: int


def prepare(url: str, instance: str, secret: str) -> World:
    """Migrate, load the shipped files, open a citizen wave of every district."""
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models.survey import District, utcnow
    from surveyapp.services.catalog import questionnaire_of, sync_catalog
    from surveyapp.services.waves import create_wave, latest_version

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
                      "SURVEYAPP_INSTANCE_PATH": instance})
    with app.app_context():
        upgrade()
        sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
        version = latest_version("citizen")
        districts = db.session.scalars(db.select(District)).all()
        now = utcnow()
        wave = create_wave("bench", version, [d.code for d in districts],
                           now - timedelta(days=1), now + timedelta(days=30))
        db.session.commit()
        questionnaire = questionnaire_of(version)
        rng = random.Random(2024)
        bodies = tuple(_body(questionnaire, rng.choice(districts), rng) for _ in range(500))
        world = World(wave.id, bodies, len(questionnaire.items))
        db.engine.dispose()
    return world


def _body(questionnaire, district, rng: random.Random) -> dict[str, str]:
    body = {"district": district.code, "street": rng.choice(district.streets).code}
    for demographic in questionnaire.demographics:
        if demographic.kind == "choice":
            body[demographic.id] = rng.choice(demographic.choices).value
    for item in questionnaire.items:
        scale = questionnaire.scales[item.scale]
        body[f"q_{item.id}"] = str(rng.choice(scale.values))
    return body


def stored_markers(url: str) -> tuple[Counter, Counter]:
    """Responses per comment marker, and answers per marker."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        responses = Counter(dict(conn.execute(sa.text(
            "SELECT comment, count(*) FROM response GROUP BY comment")).all()))
        answers = Counter(dict(conn.execute(sa.text(
            "SELECT r.comment, count(*) FROM answer a JOIN response r ON r.id = a.response_id "
            "GROUP BY r.comment")).all()))
    engine.dispose()
    return responses, answers


# --- gunicorn --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py serving wsgi:app; its log is kept to count worker deaths."""

    def __init__(self, worker_class: str, workers: int, threads: int, env: dict[str, str],
                 log: Path) -> None:
        self.port = free_port()
        self.log = log
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                   "-w", str(workers), "-k", worker_class, "--threads", str(threads),
                   "-b", f"127.0.0.1:{self.port}", "wsgi:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=log.open("w"))
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if ready(self.port):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def deaths(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if DEATHS.search(line)]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the clients -----------------------------------------------------------------------------

def ready(port: int) -> bool:
    """Whether the server answers ``/healthz`` with 200 (one blocking request)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz", headers={"Connection": "close"})
        return conn.getresponse().status == 200
    finally:
        conn.close()


@dataclass
class Tally:
    """What one phase saw: latencies by request kind, cycle times, statuses, markers."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    cycles: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    def record(self, kind: str, reply: Reply) -> None:
        if reply.status:
            self.latencies.setdefault(kind, []).append(reply.seconds)
            self.statuses[(kind, reply.status)] += 1
        else:
            self.errors[reply.error] += 1


def run_phase(port: int, clients: int, seconds: float,
              make_client: Callable[[Tally, random.Random], Client]) -> tuple[Tally, float]:
    """``clients`` simulated clients in one event loop (benchmarks/http_load.py)."""
    tally = Tally()
    elapsed = http_load.run(("127.0.0.1", port),
                            [make_client(tally, random.Random(i)) for i in range(clients)],
                            seconds)
    return tally, elapsed


def getter(path: str, kind: str) -> Callable[[Tally, random.Random], Client]:
    def make(tally: Tally, rng: random.Random) -> Client:
        def step() -> Client:
            tally.record(kind, (yield Request("GET", path)))

        return repeat(step)

    return make


def hidden_fields(page: str) -> dict[str, str]:
    """The form's hidden inputs (CSRF token, ticket), as a browser would send them."""
    start = page.find('<input type="hidden"')
    fields = {}
    for tag in HIDDEN.findall(page, max(start, 0), start + 4000 if start >= 0 else len(page)):
        name, value = NAME.search(tag), VALUE.search(tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def resident(world: World, run: str) -> Callable[[Tally, random.Random], Client]:
    """One resident after another: a fresh browser (no cookies) GETs the form and POSTs a
    complete answer with the cookies and hidden fields it was given."""
    path = f"/s/{world.wave_id}"

    def make(tally: Tally, rng: random.Random) -> Client:
        def step() -> Client:
            form = yield Request("GET", path)
            tally.record("form GET", form)
            if form.status != 200:
                return
            marker = f"{run}-{uuid.uuid4().hex}"
            body = {**hidden_fields(form.body.decode("utf-8", "replace")),
                    **rng.choice(world.bodies), "comment": marker}
            tally.posted.append(marker)
            post = yield Request("POST", path, urlencode(body).encode(), form.cookies())
            tally.record("POST", post)
            if post.status:
                tally.cycles.append(form.seconds + post.seconds)
            if post.status == 303:
                tally.accepted.append(marker)

        return repeat(step)

    return make


# --- figures ---------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


@dataclass(frozen=True)
class Row:
    phase: str
    clients: int
    rate: float  # successful requests (or accepted submissions) per second
    p50: float
    p99: float
    detail: str


def measure(port: int, world: World, seconds: float) -> list[Row]:
    rows = []
    for phase, path, clients in [("healthz (floor)", "/healthz", 16), ("landing", "/", 16),
                                 ("form GET", f"/s/{world.wave_id}", 16)]:
        tally, elapsed = run_phase(port, clients, seconds, getter(path, phase))
        ok = tally.statuses[(phase, 200)]
        times = tally.latencies.get(phase, [])
        rows.append(Row(phase, clients, ok / elapsed, percentile(times, 0.5),
                        percentile(times, 0.99), _statuses(tally)))
    return rows


def measure_residents(port: int, world: World, seconds: float, clients: int,
                      run: str) -> tuple[Row, Tally]:
    tally, elapsed = run_phase(port, clients, seconds, resident(world, run))
    posts, cycles = tally.latencies.get("POST", []), tally.cycles
    gets = tally.latencies.get("form GET", [])
    detail = (f"form GET p50/p99 {percentile(gets, .5):.0f}/{percentile(gets, .99):.0f} ms, "
              f"POST p50/p99 {percentile(posts, .5):.0f}/{percentile(posts, .99):.0f} ms; "
              + _statuses(tally))
    return Row("residents GET+POST", clients, len(tally.accepted) / elapsed,
               percentile(cycles, .5), percentile(cycles, .99), detail), tally


def _statuses(tally: Tally) -> str:
    parts = [f"{kind} {status}: {n}" for (kind, status), n in sorted(tally.statuses.items())]
    parts += [f"{name}: {n}" for name, n in tally.errors.items()]
    return ", ".join(parts)


def check_integrity(url: str, tallies: list[Tally], items: int, run: str) -> list[str]:
    """Every 303 of this run stored once with all its answers; nothing stored that was not
    answered 303."""
    responses, answers = stored_markers(url)
    responses = Counter({m: n for m, n in responses.items() if m and m.startswith(run + "-")})
    accepted = [m for t in tallies for m in t.accepted]
    posted = {m for t in tallies for m in t.posted}
    problems = []
    lost = [m for m in accepted if responses[m] != 1]
    if lost:
        problems.append(f"{len(lost)} accepted responses not stored exactly once")
    partial = [m for m in accepted if answers[m] != items]
    if partial:
        problems.append(f"{len(partial)} accepted responses without all {items} answers")
    unknown = [m for m in responses if m not in posted]
    if unknown:
        problems.append(f"{len(unknown)} stored responses that no client posted")
    extra = [m for m in posted - set(accepted) if responses[m]]
    if extra:
        problems.append(f"{len(extra)} responses stored though their POST was not answered 303")
    return problems


def machine() -> str:
    load = os.getloadavg()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load[0]:.1f}/{load[1]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("SURVEYAPP_BENCH_SERVER", DEFAULT_SERVER),
                        help="PostgreSQL server URL (a database is created and dropped there)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", nargs="+", default=["sync", "gthread"],
                        choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 4],
                        help="threads per gthread worker: one server for each")
    parser.add_argument("--log-dir", type=Path, default=None,
                        help="keep gunicorn's logs (with any faulthandler traces) here")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    secret = uuid.uuid4().hex
    url = create_database(args.server)
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-submissions-") as instance:
            world = prepare(url, instance, secret)
            env = {**os.environ, "SURVEYAPP_DATABASE_URL": url, "SURVEYAPP_SECRET_KEY": secret,
                   "SURVEYAPP_INSTANCE_PATH": instance, "PYTHONFAULTHANDLER": "1",
                   # all simulated residents share 127.0.0.1: per-address rate limits would
                   # answer 429 after a few posts; the limiter is measured by its own tests
                   "SURVEYAPP_RATELIMIT_ENABLED": "0"}
            print(f"machine: {machine()}")
            for worker_class in args.worker_class:
                for threads in (args.threads if worker_class == "gthread" else [1]):
                    failures += run_server(worker_class, threads, args, env, Path(instance),
                                           url, world)
    finally:
        drop_database(args.server, url)
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def run_server(worker_class: str, threads: int, args, env: dict[str, str], instance: Path,
               url: str, world: World) -> list[str]:
    label = f"gunicorn -w {args.workers} -k {worker_class}" + (
        f" --threads {threads}" if worker_class == "gthread" else "")
    run = worker_class if worker_class != "gthread" else f"gthread-{threads}"  # markers' prefix
    log_dir = args.log_dir or instance
    log_dir.mkdir(parents=True, exist_ok=True)
    server = Server(worker_class, args.workers, threads, env, log_dir / f"{run}.log")
    failures = []
    try:
        rows = measure(server.port, world, args.seconds)
        tallies = []
        for clients in (16, 64):
            row, tally = measure_residents(server.port, world, args.seconds, clients, run)
            rows.append(row)
            tallies.append(tally)
        deaths = server.deaths()
    finally:
        server.stop()
    print(f"\n{label}  (load average now {os.getloadavg()[0]:.1f})")
    print(f"{'phase':<22}{'clients':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for row in rows:
        print(f"{row.phase:<22}{row.clients:>8}{row.rate:>9.1f}{row.p50:>9.0f}{row.p99:>9.0f}  "
              f"{row.detail}")
    floor = rows[0].rate
    ratios = {"form GET / floor": rows[2].rate / floor, "accepted at 64 / floor": rows[4].rate / floor}
    for name, ratio in ratios.items():
        verdict = "ok" if ratio >= TARGETS[name] else "BELOW TARGET"
        print(f"{name}: {ratio:.0%} (target >= {TARGETS[name]:.0%}) {verdict}")
        if ratio < TARGETS[name]:
            failures.append(f"{label}: {name} {ratio:.0%}")
    for row in rows[1:]:
        if row.p99 >= P99_LIMIT_MS:
            failures.append(f"{label}: {row.phase} at {row.clients}: p99 {row.p99:.0f} ms")
    problems = check_integrity(url, tallies, world.items, run)
    print(f"integrity: {sum(len(t.accepted) for t in tallies)} accepted, "
          + ("every one stored once with all answers" if not problems else "; ".join(problems)))
    failures += [f"{label}: {p}" for p in problems]
    print(f"worker deaths: {len(deaths)}")
    for line in deaths[:10]:
        print(f"  {line}")
    failures += [f"{label}: worker died: {line}" for line in deaths]
    return failures


if __name__ == "__main__":
    sys.exit(main())
