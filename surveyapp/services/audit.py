"""The audit log: every administrative change is recorded with who, when and why."""
from __future__ import annotations

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, User

CLI_ACTOR = "cli"


def record(actor: User | None, action: str, target: str, reason: str = "",
           actor_name: str | None = None) -> AuditLog:
    """Add one audit entry; ``actor`` None means the command line, unless ``actor_name`` says
    who else it was (e.g. an anonymous sign-in attempt)."""
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else (actor_name or CLI_ACTOR),
        action=action,
        target=target,
        reason=reason,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def recent(limit: int = 200) -> list[AuditLog]:
    """The newest ``limit`` entries, newest first."""
    query = sa.select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def record_download(actor: User | None, kind: str, target: str, **details: object) -> AuditLog:
    """Record that ``actor`` took a ``kind`` (report, run, microdata) out of the service.

    ``details`` (format, language, rows, ...) become the entry's reason as ``key=value`` pairs,
    so the log says who took what, when, and in which form.
    """
    reason = " ".join(f"{key}={value}" for key, value in details.items())
    return record(actor, f"download.{kind}", target[:200], reason)
