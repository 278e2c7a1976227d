"""Running jobs: Huey's consumer plus the upkeep every worker does (surveyapp.services.jobs).

The upkeep thread, every quarter lease, queues again the jobs lost with a killed worker and
queues the final reports of waves that have just closed. Any number of workers may run on any
number of hosts: both chores are conditional updates, so two workers never do one twice.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from surveyapp.gc_safepoints import collect_only_at_safe_points
from surveyapp.queue import job_queue

log = logging.getLogger(__name__)


def run_worker(app: Flask, workers: int) -> None:
    """``surveyapp worker``: run jobs until SIGINT/SIGTERM (Huey's consumer handles both)."""
    from huey.consumer import Consumer

    collect_only_at_safe_points()  # job threads: the collector runs between jobs
    start_upkeep(app)
    Consumer(job_queue(app), workers=workers, worker_type="thread", periodic=False,
             max_delay=1.0).run()


def start_embedded_worker(app: Flask, workers: int = 2) -> None:
    """Workers inside this process (``surveyapp demo``), leaving signals to the server."""
    from huey.consumer import Consumer

    class EmbeddedConsumer(Consumer):
        def _set_signal_handlers(self) -> None:
            """The web server owns Ctrl+C; the worker threads are daemons and end with it."""

    start_upkeep(app)
    EmbeddedConsumer(job_queue(app), workers=workers, worker_type="thread", periodic=False,
                     max_delay=1.0).start()


def start_upkeep(app: Flask) -> threading.Thread:
    thread = threading.Thread(target=_upkeep, args=(app,), name="surveyapp-upkeep", daemon=True)
    thread.start()
    return thread


def _upkeep(app: Flask) -> None:
    from surveyapp.extensions import db
    from surveyapp.services.jobs import recover_lost
    from surveyapp.services.report_cache import build_closed_waves

    lease = app.config["SURVEYAPP_JOB_LEASE_SECONDS"]
    while True:
        try:
            with app.app_context():
                recover_lost(lease)
                build_closed_waves()
        except Exception:  # a database outage must not end the upkeep
            log.exception("worker upkeep failed; trying again")
            with app.app_context():
                db.session.rollback()
        time.sleep(max(lease / 4, 0.25))
