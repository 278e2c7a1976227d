"""Background jobs (report builds, estimate runs and reruns, exports): their state lives in the
database, so it survives restarts and every web host and worker sees the same one
(surveyapp.services.jobs)."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import db

JOB_STATES = ("queued", "running", "done", "failed")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Job(db.Model):
    """One unit of background work.

    ``key`` names what the job makes (e.g. a report of one data version), so that two hosts
    asked for the same cold report share one job. ``heartbeat_at`` is renewed by the worker
    running it; a running job whose heartbeat is older than the lease was lost with its worker
    and is queued again (``attempts`` counts the starts). ``result`` is the store key or row id
    of what was made; ``error`` the reason a failed job gives and ``failure`` its kind: the work
    was refused (no report can be made of these data), its request was invalid, the code failed, or the workers were lost.
    ``progress`` of ``progress_total`` is the work done, for those that report it (estimate
    runs and reruns: tables estimated), renewed with the heartbeat.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    params_json: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    failure: Mapped[str | None] = mapped_column(sa.String(10))  # refused, invalid, error or lost
    progress: Mapped[int | None] = mapped_column(sa.Integer)
    progress_total: Mapped[int | None] = mapped_column(sa.Integer)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
