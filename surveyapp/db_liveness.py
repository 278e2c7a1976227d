"""A pooled connection is checked for life when it comes back from a rest, not at every use.

``pool_pre_ping`` sent a round trip before every checkout: one of the four a resident's form
page cost, a tenth of a gunicorn worker's time under load. A connection that a request gave
back moments ago is as alive as a ping could show; if the database went away since, the next
statement fails, the request answers 503 (surveyapp.blueprints.errors) and SQLAlchemy drops
every connection of the pool (its disconnect handling), so later requests connect afresh. A
connection that rested longer than ``IDLE_SECONDS`` (the database may have restarted, or a
firewall dropped it) is pinged first and replaced, unseen by the request, if it is dead.
"""
from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

IDLE_SECONDS = 1.0
# What a lost or refused database connection raises: the database is down or restarting. The
# web answers these with 503, the command line with a sentence naming SURVEYAPP_DATABASE_URL.
DATABASE_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
RESTED_SINCE = "surveyapp_rested_since"


def ping_after_rest(engine: Engine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Ping a connection at checkout only if it has been in the pool over ``idle_seconds``."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _resting(dbapi_connection, record) -> None:
        record.info[RESTED_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive_after_rest(dbapi_connection, record, proxy) -> None:
        rested_since = record.info.get(RESTED_SINCE)
        if rested_since is None or time.monotonic() - rested_since < idle_seconds:
            return  # just connected, or just used
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("the pooled connection died while resting") from error
