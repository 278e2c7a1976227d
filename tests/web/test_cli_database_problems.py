"""A command run against a database nobody built, or one that cannot be reached, says so in
one sentence (zh / en) naming the fix, exit status 1, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def surveyapp(database_url: str, instance: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SURVEYAPP_DATABASE_URL": database_url,
           "SURVEYAPP_INSTANCE_PATH": str(instance)}
    return subprocess.run([sys.executable, "-c", "from surveyapp.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("args", [
    ("report", "--wave", "2024", "--district", "310109", "--output", "r.pdf"),
    ("user", "list"),
])
def test_a_database_without_tables_asks_for_the_migration(tmp_path, args):
    run = surveyapp(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, *args)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "surveyapp db upgrade" in run.stderr
    assert "数据库缺少表" in run.stderr and "the database has no table" in run.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_an_unreachable_database_names_the_setting(tmp_path):
    run = surveyapp("postgresql+psycopg://nobody@127.0.0.1:9/none", tmp_path, "user", "list")

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "SURVEYAPP_DATABASE_URL" in run.stderr and "数据库无法使用" in run.stderr


def test_other_errors_are_not_dressed_up_as_database_problems():
    from surveyapp.cli.database_problems import database_problem

    assert database_problem(ValueError("no such table: wave")) is None


def test_a_connection_closed_under_the_command_is_an_unavailable_database():
    """psycopg raises InterfaceError, not OperationalError, for a connection the server closed."""
    import sqlalchemy as sa

    from surveyapp.cli.database_problems import database_problem

    error = sa.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed\nmore"))
    sentence = database_problem(error)

    assert sentence is not None and "SURVEYAPP_DATABASE_URL" in sentence
    assert sentence.endswith("connection already closed")
