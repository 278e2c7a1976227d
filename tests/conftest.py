"""Fixtures shared by every web/database test.

Database tests run once per backend: SQLite always, PostgreSQL when
SURVEYAPP_TEST_DATABASE_URL is set (as .ci/run does). Each test session gets a fresh database
built by running the migrations (so the migrations are tested too); each test starts from
empty tables.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from surveyapp import create_app
from surveyapp.blueprints.survey_waves import forget_waves
from surveyapp.config import test_database_url
from surveyapp.extensions import db
from surveyapp.i18n import in_language

BACKENDS = ["sqlite", "postgresql"]
pytest_plugins = ("tests.web.analyst_fixtures",)  # the `world` fixture of the analyst tests


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A freshly created, empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    base = test_database_url()
    if not base:
        pytest.skip("PostgreSQL backend: set SURVEYAPP_TEST_DATABASE_URL to run it")
    name = f"surveyapp_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_app(database_url, tmp_path_factory) -> Iterator[Flask]:
    """One application per backend, its schema built by the migrations."""
    from flask_migrate import upgrade

    instance = tmp_path_factory.mktemp("instance")
    app = create_app(test_config(database_url, instance))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_config(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SURVEYAPP_INSTANCE_PATH": str(instance),
        "RATELIMIT_ENABLED": False,  # on only in tests/web/test_rate_limits.py
        "SURVEYAPP_QUEUE_URL": "immediate",  # jobs run inside the request; real workers:
        # tests/web/test_worker.py and tests/topology/
    }


test_config.__test__ = False  # a helper, not a test


@pytest.fixture
def app(migrated_app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The backend's app with empty tables and an empty store, inside an application context.

    The store is the test's own: SQLite gives the next test's wave the same id and the test
    data are the same, so a shared store would hand a test the reports of an earlier one."""
    migrated_app.config["SURVEYAPP_STORAGE_URL"] = f"file://{tmp_path / 'store'}"
    with migrated_app.app_context():
        yield migrated_app
        db.session.rollback()
        db.session.remove()
        empty_all_tables()
    migrated_app.config["SURVEYAPP_STORAGE_URL"] = ""


@pytest.fixture
def queued(app: Flask, tmp_path: Path) -> Iterator[None]:
    """A real queue (SQLite, the embedded default) with no worker: jobs wait until the test
    runs them (the rest of the suite runs each job as it is queued)."""
    app.config["SURVEYAPP_QUEUE_URL"] = f"sqlite:///{tmp_path / 'queue.db'}"
    app.extensions.pop("surveyapp_queue", None)
    yield
    app.config["SURVEYAPP_QUEUE_URL"] = "immediate"
    app.extensions.pop("surveyapp_queue", None)


def empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    forget_waves()  # SQLite gives the next test's wave the same id


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def pageless_runner(app: Flask):
    """A command runner in the application as `surveyapp estimate` and `export` build it
    (``create_app(web=False)``), on the test's database and store, its context pushed over the
    test's for the test's duration."""
    pageless = create_app({**test_config(app.config["SQLALCHEMY_DATABASE_URI"],
                                         Path(app.instance_path)),
                           "SURVEYAPP_STORAGE_URL": app.config["SURVEYAPP_STORAGE_URL"]},
                          web=False)
    with pageless.app_context():
        try:
            yield pageless.test_cli_runner()
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def english(app: Flask) -> Iterator[None]:
    """Messages in English outside a request, where the application's default is Chinese."""
    with in_language("en"):
        yield


@pytest.fixture
def english_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Command-line messages in English, whatever the locale of the machine running the tests."""
    monkeypatch.setenv("SURVEYAPP_LANG", "en")


@pytest.fixture
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No language setting at all (SURVEYAPP_LANG, LC_ALL, LC_MESSAGES, LANG unset)."""
    for name in ("SURVEYAPP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql': for tests that only make sense on one backend."""
    return make_url(database_url).get_backend_name()
