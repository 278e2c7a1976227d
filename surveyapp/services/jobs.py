"""Background jobs: queue once, run on any worker, survive a worker's death, say why they failed.

A job is a row of ``job`` (surveyapp.models.jobs) and a message on the queue (surveyapp.queue)
carrying its id. ``submit`` finds or makes the row for a key, so that two web hosts asked for
the same cold report share one job. A worker claims a queued row by a conditional update (one
winner), renews ``heartbeat_at`` while it runs (with the progress the handler reports), and
records the result or the reason. Huey forgets a message once it is taken, so ``recover_lost``
(run by every worker every few seconds) queues again each running job whose heartbeat is older
than the lease: the worker was killed. After MAX_ATTEMPTS starts the job fails with that reason
instead.
"""
from __future__ import annotations

import importlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from surveyapp.extensions import db
from surveyapp.models.jobs import Job
from surveyapp.models.survey import as_utc
from surveyapp.queue import enqueue

MAX_ATTEMPTS = 3
LOST = "lost"  # the failure of a job whose workers died MAX_ATTEMPTS times
# kind -> "module:function" taking the job's params and its JobProgress and returning its result
# (a store key or an id); imported when the job runs, so that the web process need not load
# every job's code.
HANDLERS = {
    "report": "surveyapp.services.report_cache:run_report_job",
    "run": "surveyapp.services.run_jobs:run_estimate_job",
    "rerun": "surveyapp.services.run_jobs:run_rerun_job",
    "export": "surveyapp.services.export_jobs:run_export_job",
}
PROGRESS_SECONDS = 0.5  # how often a moving job's progress is written
log = logging.getLogger(__name__)


class JobFailed(Exception):
    """A job's handler refusing its work with a reason for the reader (already in zh/en).

    ``kind`` is "refused" (these data allow no result) or "invalid" (the request has
    problems, one a line)."""

    def __init__(self, reason: str, kind: str = "refused") -> None:
        super().__init__(reason)
        self.kind = kind


def _now() -> datetime:
    return datetime.now(UTC)


def submit(kind: str, params: dict[str, Any], key: str | None = None,
           user_id: int | None = None, retry: bool = False, result_lost: bool = False) -> Job:
    """The job making ``key`` (queued now unless one exists), committed and on the queue.

    A failed job of the same key stays failed (a page refreshing would otherwise retry it
    for ever) unless ``retry``: the reader asked to try again. A done one is queued again only
    when the caller found its result gone (``result_lost``: the store lost the file).
    """
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = _by_key(key)
    if job is None:
        job = Job(kind=kind, key=key, params_json=json.dumps(params, sort_keys=True),
                  state="queued", attempts=0, heartbeat_at=_now(), user_id=user_id)
        try:
            with db.session.begin_nested():
                db.session.add(job)
        except IntegrityError:  # another host made it between our look and our insert
            job = _by_key(key)
            assert job is not None
            return job
    elif (job.state == "failed" and retry) or (job.state == "done" and result_lost):
        requeued = db.session.execute(
            sa.update(Job).where(Job.id == job.id, Job.state == job.state)
            .values(state="queued", attempts=0, error=None, failure=None, heartbeat_at=_now())).rowcount
        if not requeued:
            return job
    else:
        return job
    db.session.commit()
    enqueue(job.id)
    db.session.refresh(job)  # immediate mode: already done
    return job


def _by_key(key: str | None) -> Job | None:
    return None if key is None else db.session.scalar(sa.select(Job).where(Job.key == key))


def execute(job_id: int) -> None:
    """Run a queued job if this worker wins it; record its result or its reason."""
    claimed = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state == "queued")
        .values(state="running", attempts=Job.attempts + 1, heartbeat_at=_now())).rowcount
    db.session.commit()
    if not claimed:
        return  # done, failed, or taken by another worker
    job = db.session.get(Job, job_id)
    attempt = job.attempts
    handler = _handler(job.kind)
    params = json.loads(job.params_json)
    with JobProgress(job_id, current_app.config["SURVEYAPP_JOB_LEASE_SECONDS"]) as progress:
        try:
            result, error, kind = handler(params, progress), None, None
        except JobFailed as refusal:
            result, error, kind = None, str(refusal), refusal.kind
        except Exception as failure:  # any failure: the reason is kept for the reader
            log.exception("job %s failed", job_id)
            result, error, kind = None, f"{type(failure).__name__}: {failure}", "error"
    db.session.rollback()
    # Only the attempt that still holds the job records it (a recovered job has a new one).
    db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state == "running", Job.attempts == attempt)
        .values(state="failed" if error is not None else "done", result=result, error=error,
                failure=kind, finished_at=_now(), **progress.values()))
    db.session.commit()


def _handler(kind: str) -> Callable[[dict, JobProgress], str]:
    module, _colon, name = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


class JobProgress:
    """Renews a running job's heartbeat from a thread of its own, on its own connection, and
    records the progress its handler reports through ``set_total`` and ``advance`` (the
    callbacks the estimation services take), so that a client anywhere can follow the job."""

    def __init__(self, job_id: int, lease_seconds: int) -> None:
        self.job_id, self.interval = job_id, max(lease_seconds / 4, 0.2)
        self.done, self.total = 0, None
        self.engine = db.engine
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def set_total(self, total: int) -> None:
        self.done, self.total = 0, total

    def advance(self, n: int) -> None:
        self.done += n

    def values(self) -> dict[str, int | None]:
        """The progress columns of the job as they stand."""
        return {"progress": self.done if self.total is not None else None,
                "progress_total": self.total}

    def _beat(self) -> None:
        written, beaten = self.values(), time.monotonic()
        while not self.stop.wait(min(self.interval, PROGRESS_SECONDS)):
            if self.values() == written and time.monotonic() - beaten < self.interval:
                continue
            written, beaten = self.values(), time.monotonic()
            with self.engine.begin() as connection:
                connection.execute(sa.update(Job).where(Job.id == self.job_id,
                                                        Job.state == "running")
                                   .values(heartbeat_at=_now(), **written))

    def __enter__(self) -> JobProgress:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def recover_lost(lease_seconds: int) -> list[int]:
    """Queue again the running jobs whose worker stopped renewing them; the ids queued."""
    cutoff = _now() - timedelta(seconds=lease_seconds)
    lost = db.session.execute(sa.select(Job.id, Job.attempts).where(
        Job.state == "running", Job.heartbeat_at < cutoff)).all()
    queued = []
    for job_id, attempts in lost:
        final = attempts >= MAX_ATTEMPTS
        values = {"state": "failed", "failure": LOST, "finished_at": _now()} if final else \
            {"state": "queued", "heartbeat_at": _now()}
        changed = db.session.execute(  # one recovery per job, whichever worker sees it first
            sa.update(Job).where(Job.id == job_id, Job.state == "running",
                                 Job.attempts == attempts, Job.heartbeat_at < cutoff)
            .values(**values)).rowcount
        db.session.commit()
        if changed and not final:
            log.warning("job %s lost with its worker (attempt %s): queued again", job_id, attempts)
            enqueue(job_id)
            queued.append(job_id)
    return queued


def failure_reason(job: Job) -> str:
    """Why the job failed, in the reader's language."""
    if job.failure == LOST:
        return _("the workers running this job stopped %(n)s times; ask again, and tell the "
                 "administrator if it keeps failing", n=MAX_ATTEMPTS)
    return job.error or ""


def job_json(job: Job) -> dict[str, Any]:
    """What the API says of a job (its result's URL is added by the caller)."""
    body: dict[str, Any] = {"id": job.id, "kind": job.kind, "state": job.state,
                            "attempts": job.attempts,
                            "created_at": as_utc(job.created_at).isoformat()}
    if job.state == "running" and job.progress_total is not None:
        body["progress"] = {"done": job.progress, "total": job.progress_total}
    if job.state == "failed":
        body["error"] = failure_reason(job)
    return body

