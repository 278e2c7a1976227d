"""Administrative indicators by district (product-inspection pass rates, complaints, ...),
uploaded per wave as the non-survey inputs of the composite quality index."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.survey import Wave, utcnow

DIRECTIONS = ("benefit", "cost")  # higher is better / higher is worse


class IndicatorSet(db.Model):
    """One upload: the indicators of ``year`` that go with a wave's survey scores."""

    __tablename__ = "indicator_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    # RESTRICT: a wave with an index built on these figures cannot lose them silently.
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id", ondelete="RESTRICT"),
                                         index=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    wave: Mapped[Wave] = relationship()
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="indicator_set", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Indicator.id")


class Indicator(db.Model):
    """One indicator of a set, with what a reader needs to judge it: unit, direction, source."""

    __tablename__ = "indicator"
    __table_args__ = (
        sa.UniqueConstraint("indicator_set_id", "key"),
        sa.CheckConstraint(f"direction IN {DIRECTIONS}", name="direction_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("indicator_set.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    label_zh: Mapped[str] = mapped_column(sa.String(120))
    label_en: Mapped[str] = mapped_column(sa.String(120))
    unit: Mapped[str] = mapped_column(sa.String(40), default="")
    direction: Mapped[str] = mapped_column(sa.String(8))
    # The value that scores 1 under the target normalisation; None: the best value observed.
    target: Mapped[float | None] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.Text, default="")

    indicator_set: Mapped[IndicatorSet] = relationship(back_populates="indicators")
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", passive_deletes=True,
        order_by="IndicatorValue.district_code")

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


class IndicatorValue(db.Model):
    """The value of one indicator in one district."""

    __tablename__ = "indicator_value"
    __table_args__ = (sa.UniqueConstraint("indicator_id", "district_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicator.id", ondelete="CASCADE"))
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("district.code"))
    value: Mapped[float] = mapped_column(sa.Float)

    indicator: Mapped[Indicator] = relationship(back_populates="values")
