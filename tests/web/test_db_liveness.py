"""Pooled connections are pinged only after a rest, and a connection that died resting is
replaced before a request sees it (surveyapp.db_liveness)."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from surveyapp.db_liveness import ping_after_rest
from surveyapp.extensions import db

REST = 0.05


@pytest.fixture
def engine(database_url):
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
    ping_after_rest(engine, idle_seconds=REST)
    yield engine
    engine.dispose()


def count_pings(engine, monkeypatch) -> list[int]:
    pings, ping = [], engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or ping(conn))
    return pings


def select_one(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT 1")).scalar_one()


def test_a_connection_used_moments_ago_is_not_pinged(engine, monkeypatch):
    pings = count_pings(engine, monkeypatch)
    for _ in range(5):
        assert select_one(engine) == 1
    assert pings == []


def test_a_rested_connection_is_pinged_once(engine, monkeypatch):
    select_one(engine)
    pings = count_pings(engine, monkeypatch)
    time.sleep(REST * 2)
    select_one(engine)
    select_one(engine)
    assert pings == [1]


def test_a_connection_that_died_resting_is_replaced_unseen(engine, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that can end a session: PostgreSQL")
    with engine.connect() as connection:
        backend = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    killer = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with killer.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": backend}).scalar_one()
    killer.dispose()
    time.sleep(REST * 2)
    with engine.connect() as connection:  # no error: the dead one was pinged and replaced
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != backend


def test_the_app_pings_no_connection_between_busy_requests(app, client, monkeypatch):
    client.get("/healthz")
    pings = count_pings(db.engine, monkeypatch)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert pings == []
