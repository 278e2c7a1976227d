"""Accounts: staff users with a role and districts, login throttling, and the audit log."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def normal_name(username: str) -> str:
    """The stored form of a user name (lower case, as a CHECK constraint requires)."""
    return (username or "").lower()


user_district = sa.Table(
    "user_district",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("district_code", sa.ForeignKey("district.code"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A member of staff: 'admin' (everything), 'analyst' (all districts) or 'bureau' (its own).

    User names are stored in lower case (so unique whatever the case typed). A session is
    bound to ``session_version``: raising it ends every session signed in before.
    """

    __tablename__ = "user_account"
    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'analyst', 'bureau')", name="role"),
                      sa.CheckConstraint("username = lower(username)", name="username_lower"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    districts: Mapped[list[District]] = relationship(  # noqa: F821
        secondary=user_district, order_by="District.code"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What the session cookie holds: id and session version (surveyapp.auth.load_user)."""
        return f"{self.id}:{self.session_version}"


class LoginFailure(db.Model):
    """One failed login; recent rows throttle further attempts, across every server process."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    client_hash: Mapped[str] = mapped_column(sa.String(64), index=True)  # HMAC of the address
    # Set when the browser showed a device cookie for this user name (surveyapp.services.
    # login_throttle): such attempts count against that browser only.
    device: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    failed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)


class AuditLog(db.Model):
    """Who did what to which object, when and why. Rows are only ever added."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(64))  # kept as text: "cli" has no account
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
