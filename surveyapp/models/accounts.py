"""Accounts: staff users with a role and districts, login throttling, and the audit log."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db

ROLES = ("admin", "analyst", "bureau")


def utcnow() -> datetime:
    return datetime.now(UTC)


user_district = sa.Table(
    "user_district",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("district_code", sa.ForeignKey("district.code"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A member of staff: 'admin' (everything), 'analyst' (all districts) or 'bureau' (its own)."""

    __tablename__ = "user_account"
    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'analyst', 'bureau')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    districts: Mapped[list[District]] = relationship(  # noqa: F821
        secondary=user_district, order_by="District.code"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class LoginFailure(db.Model):
    """One failed login; recent rows throttle further attempts, across every server process."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    client_hash: Mapped[str] = mapped_column(sa.String(64), index=True)  # HMAC of the address
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
