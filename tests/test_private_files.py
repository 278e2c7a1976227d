"""The instance folder, SQLite database, secret key and report cache are private from creation."""
import os
import stat
from pathlib import Path

import pytest

from surveyapp import create_app
from surveyapp.private_files import private_dir, private_sqlite_file, write_once
from surveyapp.storage import app_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """umask 0: any mode that is right was given at creation, not left by the umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def no_chmod(monkeypatch):
    """A chmod after creation would leave a window: none may happen."""
    def refuse(*args, **kwargs):
        raise AssertionError("chmod called")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)


def test_a_fresh_instance_is_private_from_the_start(tmp_path, monkeypatch, open_umask, no_chmod):
    instance = tmp_path / "new" / "instance"
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("SURVEYAPP_DATABASE_URL", raising=False)
    app = create_app()
    assert mode(instance) == 0o700 and mode(instance.parent) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "surveyapp.db") == 0o600
    assert len(app.config["SECRET_KEY"]) == 64
    with app.app_context():
        app_store().put("reports/w1/probe", b"x")  # the shared store's embedded folder
        assert mode(instance / "store") == 0o700 and mode(instance / "store" / "reports") == 0o700
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]  # read, not remade


def test_write_once_keeps_the_first_text_and_leaves_no_temporary_file(tmp_path, open_umask):
    key = tmp_path / "secret_key"
    assert write_once(key, "first") == "first"
    assert write_once(key, "second") == "first"  # a process losing the race uses the winner's
    assert key.read_text() == "first" and mode(key) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_existing_folders_keep_their_mode(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    private_dir(shared)
    assert mode(shared) == 0o755


def test_only_sqlite_files_are_created(tmp_path, open_umask):
    database = tmp_path / "db" / "x.db"
    private_sqlite_file(f"sqlite:///{database}")
    assert mode(database) == 0o600 and mode(database.parent) == 0o700
    private_sqlite_file("sqlite://")
    private_sqlite_file("postgresql+psycopg://u@localhost/x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]
