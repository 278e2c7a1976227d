"""Progress on standard error for the analyst commands, so a long run never looks hung.

Loading and weighting a large wave is one database query and cannot count its way forward,
so after a second of it a line says what is happening; once the amount of work is known
(tables to estimate, rows to write) a tqdm bar takes over. Runs that finish within a second
show nothing. A command whose work is a job (``follow_job``) draws the same from the progress
the worker records in the job's row.
"""
from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Self

import click
from flask import Flask, current_app

if TYPE_CHECKING:
    from surveyapp.models.jobs import Job

STAGE_DELAY = 1.0  # seconds of silence before the first line appears
POLL_SECONDS = 0.2  # how often a followed job's row is read


class StageProgress:
    """``with StageProgress(stage, desc, unit) as progress``: pass ``progress.set_total`` and
    ``progress.advance`` to a service as its ``on_total`` and ``progress`` callbacks."""

    def __init__(self, stage: str, desc: str, unit: str):
        self.stage, self.desc, self.unit = stage, desc, unit
        self.bar = None
        self.timer = threading.Timer(STAGE_DELAY, click.echo, (stage,), {"err": True})
        self.timer.daemon = True

    def __enter__(self) -> Self:
        self.timer.start()
        return self

    def set_total(self, total: int) -> None:
        from tqdm import tqdm

        self.timer.cancel()
        self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr,
                        delay=STAGE_DELAY, leave=False)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.timer.cancel()
        if self.bar is not None:
            self.bar.close()


def follow_job(job_id: int, run_here: bool, stage: str, desc: str, unit: str) -> Job:
    """Wait for a job to finish, drawing its recorded progress as ``StageProgress`` does; the
    finished job (done or failed). ``run_here``: run it in a thread of this process as a worker
    would (a worker that claimed it first runs it instead, and this only follows)."""
    from surveyapp.extensions import db
    from surveyapp.models.jobs import Job

    if run_here:
        threading.Thread(target=_execute, args=(current_app._get_current_object(), job_id),
                         name=f"surveyapp-job-{job_id}", daemon=True).start()
    shown = 0
    with StageProgress(stage, desc, unit) as progress:
        while True:
            db.session.rollback()  # a new transaction: see what the worker committed since
            job = db.session.get(Job, job_id)
            if job.progress_total is not None:
                if progress.bar is None:
                    progress.set_total(job.progress_total)
                progress.advance((job.progress or 0) - shown)
                shown = job.progress or 0
            if job.state in ("done", "failed"):
                return job
            time.sleep(POLL_SECONDS)


def _execute(app: Flask, job_id: int) -> None:
    from surveyapp.services.jobs import execute

    with app.app_context():
        execute(job_id)
