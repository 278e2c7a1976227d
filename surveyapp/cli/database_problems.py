"""What to tell a command-line user whose database is not there yet or cannot be reached.

Without this, `surveyapp report` on a database nobody migrated printed SQLAlchemy's traceback
("no such table: wave"); the user needs the one command that fixes it. SQLAlchemy is imported
only once an error has happened, so start-up pays nothing.
"""
from __future__ import annotations

import re

NO_TABLE = re.compile(r"no such table: (\w+)|relation \"(\w+)\" does not exist")
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing table


def database_problem(error: BaseException) -> str | None:
    """A bilingual sentence naming the problem and the fix, or None if ``error`` is not a
    database error a user can fix from here."""
    if not type(error).__module__.startswith("sqlalchemy"):
        return None
    from sqlalchemy import exc

    if not isinstance(error, exc.DBAPIError):
        return None
    detail = (str(error.orig).strip().splitlines() or [""])[0]
    missing = NO_TABLE.search(detail)
    if missing or getattr(error.orig, "sqlstate", None) == UNDEFINED_TABLE:
        table = next((name for name in (missing.groups() if missing else ()) if name), "?")
        return (f"数据库缺少表 {table}：数据库尚未建立或版本较旧，请先运行 surveyapp db upgrade"
                f"（演示数据：surveyapp demo）/ the database has no table {table}: it was never "
                "built or is of an older version; run `surveyapp db upgrade` first (or "
                "`surveyapp demo` for demo data)")
    from surveyapp.db_liveness import DATABASE_UNAVAILABLE

    if isinstance(error, DATABASE_UNAVAILABLE):
        return (f"数据库无法使用，请检查 SURVEYAPP_DATABASE_URL 及数据库服务 / the database cannot "
                f"be used; check SURVEYAPP_DATABASE_URL and that the server runs: {detail}")
    return None
