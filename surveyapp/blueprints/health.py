"""``GET /healthz``: is this process able to serve, database included (for load balancers)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint

from surveyapp.db_liveness import DATABASE_UNAVAILABLE
from surveyapp.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """200 "ok" after one round trip to the database; 503 when the database does not answer."""
    headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except DATABASE_UNAVAILABLE:
        db.session.rollback()
        return "database unavailable\n", 503, headers
    return "ok\n", 200, headers
