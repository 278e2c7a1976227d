"""Core survey tables: geography, questionnaire versions, waves, responses and their answers.

All timestamps are UTC. PostgreSQL returns them timezone-aware; SQLite returns them naive, so
code that compares times goes through :func:`as_utc`.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.choices import LONELY_PSU_RULES, SAMPLE_DESIGNS
from surveyapp.extensions import db

if TYPE_CHECKING:  # margins.py imports this module
    from surveyapp.models.margins import MarginSet

CHANNELS = ("web", "invitation", "demo")
LANGUAGES = ("zh", "en")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Attach UTC to naive datetimes read back from SQLite; convert aware ones to UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class District(db.Model):
    """A district (GB/T 2260 code, e.g. 310109 Hongkou), synced from the geography file."""

    __tablename__ = "district"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))

    streets: Mapped[list[Street]] = relationship(
        back_populates="district", order_by="Street.code"
    )

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


class Street(db.Model):
    """A street (街道) or town (镇) inside one district."""

    __tablename__ = "street"

    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("district.code"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))

    district: Mapped[District] = relationship(back_populates="streets")

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


class QuestionnaireVersion(db.Model):
    """The exact text of one questionnaire version; immutable once responses refer to it."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    content_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    source_text: Mapped[str] = mapped_column(sa.Text)
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


wave_district = sa.Table(
    "wave_district",
    db.metadata,
    sa.Column("wave_id", sa.ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("district_code", sa.ForeignKey("district.code"), primary_key=True),
)


class Wave(db.Model):
    """One round of collection: a questionnaire version, districts, a time window and a mode."""

    __tablename__ = "wave"
    __table_args__ = (
        sa.CheckConstraint("mode IN ('open', 'invitation')", name="mode_known"),
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        sa.CheckConstraint(f"sample_design IN {SAMPLE_DESIGNS}", name="sample_design_known"),
        sa.CheckConstraint(f"lonely_psu IN {LONELY_PSU_RULES}", name="lonely_psu_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40))
    questionnaire_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_version.id"), index=True
    )
    opens_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    mode: Mapped[str] = mapped_column(sa.String(16), default="open")
    # Answered on shared devices (a kiosk in a service hall): after a response the page offers
    # a new one to the next resident, where otherwise a browser answers an open wave once.
    kiosk: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The margin set the wave's reports are weighted to; None: the newest fitting set at the
    # time of analysis. RESTRICT, not SET NULL: deleting the set behind published numbers must
    # be refused, not turned silently into a re-weighting to whatever set is newest.
    margin_set_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("margin_set.id", ondelete="RESTRICT")
    )

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    # The declared sample design, chosen at creation and fixed: every estimate of the wave
    # (reports, runs, exports) is computed with it. 'district' + 'adjust' is what reports
    # always used, so waves created before the column keep their published numbers.
    sample_design: Mapped[str] = mapped_column(sa.String(24), default="district",
                                               server_default="district")
    lonely_psu: Mapped[str] = mapped_column(sa.String(12), default="adjust",
                                            server_default="adjust")

    margin_set: Mapped[MarginSet | None] = relationship()
    districts: Mapped[list[District]] = relationship(
        secondary=wave_district, order_by=District.code
    )

    def is_open(self, now: datetime | None = None) -> bool:
        """Whether responses are accepted at ``now`` (default: the current UTC time)."""
        return self.status(now) == "open"

    def status(self, now: datetime | None = None) -> str:
        """'scheduled' before opening, 'open' in [opens_at, closes_at), 'closed' after."""
        moment = as_utc(now or utcnow())
        if moment < as_utc(self.opens_at):
            return "scheduled"
        if moment >= as_utc(self.closes_at):
            return "closed"
        return "open"


class Response(db.Model):
    """One resident's submitted questionnaire. No IP address or other identifier is stored."""

    __tablename__ = "response"
    __table_args__ = (
        sa.CheckConstraint("language IN ('zh', 'en')", name="language_known"),
        sa.CheckConstraint("channel IN ('web', 'invitation', 'demo')", name="channel_known"),
        sa.Index("ix_response_wave_district", "wave_id", "district_code"),
        # the target of answer's (response_id, wave_id) foreign key
        sa.Index("ix_response_id_wave_id", "id", "wave_id", unique=True),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id"))
    questionnaire_hash: Mapped[str] = mapped_column(sa.String(64))
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("district.code"))
    street_code: Mapped[str | None] = mapped_column(sa.ForeignKey("street.code"))
    sex: Mapped[str | None] = mapped_column(sa.String(40))
    age_group: Mapped[str | None] = mapped_column(sa.String(40))
    residence_years: Mapped[str | None] = mapped_column(sa.String(40))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(2))
    channel: Mapped[str] = mapped_column(sa.String(16))
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    duration_seconds: Mapped[int | None] = mapped_column(sa.Integer)

    wave: Mapped[Wave] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    """One rated item's raw value; "don't know" is stored as the scale's don't-know value.

    ``wave_id`` repeats the response's wave so that a wave's answers are read from one index
    (``ix_answer_wave_response``, covering the pivot of ``queries.responses_frame``) without a
    join to ``response``. The foreign key is on (response_id, wave_id), so it cannot disagree
    with the response, and the ORM copies it from ``Answer.response``; bulk inserts set it.
    """

    __tablename__ = "answer"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["response_id", "wave_id"], ["response.id", "response.wave_id"],
            name="fk_answer_response_id_response", ondelete="CASCADE",
        ),
        sa.Index("ix_answer_wave_response", "wave_id", "response_id", "item_id", "value"),
    )

    response_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.Integer)
    value: Mapped[int] = mapped_column(sa.Integer)

    response: Mapped[Response] = relationship(back_populates="answers")


class InvitationCode(db.Model):
    """A one-time invitation for a wave and district (and street); only a keyed hash is kept.

    Nothing here ties a code to the response it admitted: no reference either way, and
    ``used_at`` is the UTC date only, shared by every code used that day, so it cannot be
    matched with a response's ``submitted_at``.
    """

    __tablename__ = "invitation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("district.code"))
    street_code: Mapped[str | None] = mapped_column(sa.ForeignKey("street.code"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    used_at: Mapped[date | None] = mapped_column(sa.Date)

    wave: Mapped[Wave] = relationship()


class FormToken(db.Model):
    """A spent one-time form token: inserted with its response, so a resent POST is refused."""

    __tablename__ = "form_token"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
