"""The job queue: Huey, named by ``SURVEYAPP_QUEUE_URL``.

Huey because it is one small dependency with both deployments this service needs: an embedded
SQLite queue (the default, ``<instance>/queue.db``: ``surveyapp demo`` needs no other server)
and Redis in production (``redis://host:6379/0``), plus an immediate mode that runs each job
inside the call that queues it (``immediate``: the test suite). Celery and RQ need a broker
server even on one laptop.

The queue carries only job ids. What a job is, its state and its reason for failing are rows of
the ``job`` table (surveyapp.services.jobs): Huey forgets a message once a worker takes it, so a
worker killed mid-job would lose it; the table's lease brings it back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app

_EXTENSION = "surveyapp_queue"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def job_queue(app: Flask | None = None) -> Any:
    """The app's Huey (built on first use, so start-up does not import Huey)."""
    app = app or current_app._get_current_object()
    if _EXTENSION not in app.extensions:
        app.extensions[_EXTENSION] = _build(app)
    return app.extensions[_EXTENSION]


def enqueue(job_id: int) -> None:
    """Hand a job to the workers (immediate mode: run it now, in this thread)."""
    job_queue().run_job(job_id)


def needs_worker() -> bool:
    """Whether this app's jobs wait for ``surveyapp worker`` processes (a Redis queue). The
    embedded SQLite queue may have no worker at all, and the immediate one runs each job as it
    is queued, so a command there may as well run its job itself."""
    return current_app.config["SURVEYAPP_QUEUE_URL"].startswith(REDIS_SCHEMES)


def _build(app: Flask) -> Any:
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    url = app.config["SURVEYAPP_QUEUE_URL"]
    if url == "immediate":
        huey = MemoryHuey("surveyapp", immediate=True, results=False)
    elif url.startswith(REDIS_SCHEMES):
        huey = RedisHuey("surveyapp", url=url, results=False)
    elif not url or url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///") if url else \
            str(Path(app.config["SURVEYAPP_INSTANCE_PATH"]) / "queue.db")
        huey = SqliteHuey("surveyapp", filename=path, results=False)
    else:
        raise ValueError(f"SURVEYAPP_QUEUE_URL：不支持的队列地址 / unsupported queue URL {url!r} "
                         "(expected redis://host:port/db, sqlite:///path or immediate)")

    @huey.task(name="surveyapp.run_job")
    def run_job(job_id: int) -> None:
        from surveyapp.gc_safepoints import collect_if_due
        from surveyapp.services.jobs import execute

        collect_if_due()  # between two jobs: the worker threads' safe point
        with app.app_context():
            execute(job_id)

    huey.run_job = run_job
    return huey
