"""Population margins: known counts by district x demographic, the targets of weighting."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.survey import utcnow


class MarginSet(db.Model):
    """A named set of population counts (e.g. a census table); demo sets are flagged as such."""

    __tablename__ = "margin_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    rows: Mapped[list[MarginRow]] = relationship(
        back_populates="margin_set", cascade="all, delete-orphan", passive_deletes=True
    )


class MarginRow(db.Model):
    """One population count: in ``district_code``, ``count`` people have ``variable`` = ``category``."""

    __tablename__ = "margin_row"
    __table_args__ = (
        sa.UniqueConstraint("margin_set_id", "district_code", "variable", "category"),
        sa.CheckConstraint("count >= 0", name="count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    margin_set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("margin_set.id", ondelete="CASCADE")
    )
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("district.code"))
    variable: Mapped[str] = mapped_column(sa.String(40))
    category: Mapped[str] = mapped_column(sa.String(40))
    count: Mapped[int] = mapped_column(sa.BigInteger)

    margin_set: Mapped[MarginSet] = relationship(back_populates="rows")
