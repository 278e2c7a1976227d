"""``surveyapp worker``: run background jobs (report builds, API estimate runs) from the queue.

Start as many as the load needs, on any hosts that share the database, the queue
(SURVEYAPP_QUEUE_URL) and the store (SURVEYAPP_STORAGE_URL). A worker killed mid-job loses
nothing: another one runs the job again once its lease (SURVEYAPP_JOB_LEASE_SECONDS) ends.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Jobs run at once by this process.")
@with_appcontext
def worker(threads: int) -> None:
    """Run jobs until stopped (Ctrl+C or SIGTERM finish the jobs under way first)."""
    from surveyapp.worker import run_worker

    if current_app.config["SURVEYAPP_QUEUE_URL"] == "immediate":
        raise click.UsageError("SURVEYAPP_QUEUE_URL=immediate runs jobs in the web process; "
                               "a worker needs a queue (redis://... or sqlite:///...)")
    run_worker(current_app._get_current_object(), threads)


commands = [worker]
