"""Data-quality flags on responses; an excluded flag keeps its response out of estimation."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import db
from surveyapp.models.accounts import utcnow

FLAG_KINDS = ("speeder", "straightliner", "duplicate", "manual")


class QualityFlag(db.Model):
    """One finding about one response. Nothing is deleted: exclusion is a switch, audited."""

    __tablename__ = "quality_flag"
    __table_args__ = (
        sa.UniqueConstraint("response_id", "kind"),
        sa.CheckConstraint(
            "kind IN ('speeder', 'straightliner', 'duplicate', 'manual')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("response.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str] = mapped_column(sa.String(200), default="")
    excluded: Mapped[bool] = mapped_column(default=False, index=True)
    flagged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
