"""URL converters bounded to what the database can hold.

Every ``<int:...>`` in a route is a primary key, and the keys are SQL INTEGER columns
(-2^31 .. 2^31-1 on PostgreSQL). An id beyond that cannot name a row; unbounded, it reached the
database and failed there ("integer out of range": a 500), and one of more than 4300 digits
failed in Python's int() before that. Bounded here, it matches no route, so the answer is the
ordinary 404 page (or the API's JSON 404) and no query is made.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, ValidationError

DATABASE_INTEGER_MAX = 2**31 - 1  # SQL INTEGER, the type of every id column


class DatabaseIdConverter(IntegerConverter):
    """``int`` for ids: non-negative (as werkzeug's) and at most ``DATABASE_INTEGER_MAX``."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = DATABASE_INTEGER_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-0")) > len(str(DATABASE_INTEGER_MAX)):  # before int() reads it
            raise ValidationError()
        return super().to_python(value)


def register(app: Flask) -> None:
    """Make ``<int:...>`` bounded in every route; call before any blueprint adds its rules."""
    app.url_map.converters["int"] = DatabaseIdConverter
