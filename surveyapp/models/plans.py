"""A wave's sampling plan: how many responses each district and street should give, and which
streets were drawn. Built and explained by surveyapp.services.plans; the plan is the wave's
declared design (surveyapp.services.sample_design reads the drawn streets' inclusion
probabilities and populations from here)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.choices import PLAN_METHODS, PLAN_SELECTIONS
from surveyapp.extensions import db
from surveyapp.models.survey import Street, Wave, utcnow


class SamplePlan(db.Model):
    """One plan per wave: the total, the allocation method and, if streets were drawn, how."""

    __tablename__ = "sample_plan"
    __table_args__ = (
        sa.CheckConstraint(f"method IN {PLAN_METHODS}", name="method_known"),
        sa.CheckConstraint(f"selection IN {PLAN_SELECTIONS}", name="selection_known"),
        sa.CheckConstraint("total > 0", name="total_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id", ondelete="CASCADE"),
                                         unique=True)
    method: Mapped[str] = mapped_column(sa.String(16))
    total: Mapped[int] = mapped_column(sa.Integer)
    min_per_street: Mapped[int] = mapped_column(sa.Integer, default=0)
    selection: Mapped[str] = mapped_column(sa.String(8), default="all")
    streets_per_district: Mapped[int | None] = mapped_column(sa.Integer)
    seed: Mapped[int | None] = mapped_column(sa.BigInteger)
    # where the populations came from (a file name) and the wave the SDs came from, if any
    population_source: Mapped[str] = mapped_column(sa.String(200))
    sd_wave_label: Mapped[str | None] = mapped_column(sa.String(40))
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    wave: Mapped[Wave] = relationship()
    streets: Mapped[list[SamplePlanStreet]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SamplePlanStreet.street_code")


class SamplePlanStreet(db.Model):
    """One street of the frame: its adult population, whether it was drawn (with its
    inclusion probability) and its target number of valid responses (0 if not drawn)."""

    __tablename__ = "sample_plan_street"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("sample_plan.id", ondelete="CASCADE"),
                                         primary_key=True)
    street_code: Mapped[str] = mapped_column(sa.ForeignKey("street.code"), primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("district.code"), index=True)
    population: Mapped[int] = mapped_column(sa.Integer)
    selected: Mapped[bool] = mapped_column(sa.Boolean)
    inclusion_probability: Mapped[float] = mapped_column(sa.Float)
    target: Mapped[int] = mapped_column(sa.Integer)
    # the standard deviation of the index the allocation and the expected precision used
    sd: Mapped[float | None] = mapped_column(sa.Float)
    # the SD of the district's street means (the between-street term when streets are drawn)
    between_sd: Mapped[float | None] = mapped_column(sa.Float)

    plan: Mapped[SamplePlan] = relationship(back_populates="streets")
    street: Mapped[Street] = relationship()
