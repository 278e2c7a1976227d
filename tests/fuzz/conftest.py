"""Shared bounds and checks of the fuzz suite.

Each property runs a fixed number of derandomized examples (the same inputs on every run, so
CI is repeatable): more on SQLite, a smaller profile on PostgreSQL, which exercises the same
code and adds only the database's own refusals (NUL, integer range) that the guards now stop
before it. A deadline per example catches an input that makes a request pathologically slow
(deep nesting, expanding aliases) without timing ordinary requests.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from surveyapp.extensions import db

EXAMPLES = {"sqlite": 30, "postgresql": 8}
DEADLINE = timedelta(seconds=10)


@pytest.fixture
def fuzz_settings(backend: str) -> settings:
    """Hypothesis settings for one property on this backend."""
    return settings(max_examples=EXAMPLES[backend], deadline=DEADLINE, derandomize=True,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def stored_rows() -> dict[str, int]:
    """Rows in every table: a refused request must leave each count as it was."""
    db.session.rollback()  # see what the requests committed, not a stale snapshot
    return {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def assert_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n" \
        f"{response.get_data(as_text=True)[:2000]}"
