"""Survey waves: a questionnaire version, a label, districts, an open/close window and a mode."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from surveyapp.choices import DEFAULT_DESIGN, DEFAULT_LONELY_PSU, WAVE_MODES
from surveyapp.extensions import db
from surveyapp.models.margins import MarginSet
from surveyapp.models.survey import District, QuestionnaireVersion, Wave, as_utc, utcnow
from surveyapp.services.catalog import questionnaire_of
from surveyapp.services.declared_design import (
    DesignError,
    check_declared_design,
    street_frame_counts,
)
from surveyapp.services.margins import rake_margins


class WaveError(ValueError):
    """A wave definition that cannot be stored; the message names the offending field."""


def create_wave(
    label: str,
    version: QuestionnaireVersion,
    district_codes: Iterable[str],
    opens_at: datetime,
    closes_at: datetime,
    mode: str = "open",
    sample_design: str = DEFAULT_DESIGN,
    lonely_psu: str = DEFAULT_LONELY_PSU,
    kiosk: bool = False,
) -> Wave:
    """Validate and add a wave (flushed, not committed). Times are converted to UTC.

    ``sample_design`` and ``lonely_psu`` declare how the sample is drawn (one of
    surveyapp.choices.SAMPLE_DESIGNS and LONELY_PSU_RULES); a design the geography or the
    questionnaire cannot support is refused (WaveError naming the field) and nothing is added.
    ``kiosk``: answered on shared devices, so one browser may send several responses (open
    waves only; an invitation code admits one response wherever it is typed).
    """
    codes = sorted(set(district_codes))
    if not label.strip():
        raise WaveError("label: must not be empty (e.g. '2024')")
    if mode not in WAVE_MODES:
        raise WaveError(f"mode: expected one of {', '.join(WAVE_MODES)}, got {mode!r}")
    if kiosk and mode != "open":
        raise WaveError("kiosk: only an open-link wave can be answered on shared devices")
    if not codes:
        raise WaveError("districts: a wave must cover at least one district")
    districts = db.session.scalars(sa.select(District).where(District.code.in_(codes))).all()
    unknown = sorted(set(codes) - {d.code for d in districts})
    if unknown:
        raise WaveError(f"districts: unknown district code(s) {', '.join(unknown)}")
    if as_utc(closes_at) <= as_utc(opens_at):
        raise WaveError("closes_at: must be later than opens_at")
    check_wave_design(label, version, codes, sample_design, lonely_psu)
    wave = Wave(
        label=label.strip(),
        questionnaire_version=version,
        districts=list(districts),
        opens_at=as_utc(opens_at),
        closes_at=as_utc(closes_at),
        mode=mode,
        sample_design=sample_design,
        lonely_psu=lonely_psu,
        kiosk=kiosk,
    )
    db.session.add(wave)
    db.session.flush()
    return wave


def check_wave_design(label: str, version: QuestionnaireVersion, district_codes: list[str],
                      sample_design: str, lonely_psu: str) -> None:
    """WaveError ("sample_design: ..." or "lonely_psu: ...", in Chinese and English) unless the
    declared design fits the districts' streets in the geography and the questionnaire."""
    counts = dict.fromkeys(district_codes, 0) | street_frame_counts(district_codes)
    asks_street = any(d.kind == "street" and d.required
                      for d in questionnaire_of(version).demographics)
    try:
        check_declared_design(sample_design, lonely_psu, counts, asks_street, label)
    except DesignError as error:
        raise WaveError(str(error)) from error


def open_waves(now: datetime | None = None) -> list[Wave]:
    """Waves accepting responses at ``now``, newest first (what the landing page lists)."""
    moment = as_utc(now or utcnow())
    return list(
        db.session.scalars(
            sa.select(Wave)
            .where(Wave.opens_at <= moment, Wave.closes_at > moment)
            .order_by(Wave.opens_at.desc(), Wave.id.desc())
        )
    )


def latest_version(key: str) -> QuestionnaireVersion | None:
    """The most recently stored version of questionnaire ``key`` (e.g. 'citizen')."""
    return db.session.scalar(
        sa.select(QuestionnaireVersion)
        .where(QuestionnaireVersion.key == key)
        .order_by(QuestionnaireVersion.created_at.desc(), QuestionnaireVersion.id.desc())
        .limit(1)
    )


def pin_margin_set(wave: Wave, margin_set: MarginSet | None) -> str:
    """Pin ``wave``'s reports to ``margin_set`` (None: clear the pin, back to the automatic
    choice); returns "old -> new" for the audit log. Nothing changes if the set lacks one of
    the wave's districts: the pin would only fail later, when a report is rendered."""
    if margin_set is not None:
        covered = {district for margin in rake_margins(margin_set).values()
                   for district, _category in margin}
        missing = [d.code for d in wave.districts if d.code not in covered]
        if missing:
            raise WaveError(f"margins: margin set {margin_set.name!r} has no counts for "
                            f"district(s) {', '.join(missing)} of wave {wave.label}")
    before = wave.margin_set.name if wave.margin_set is not None else "automatic"
    wave.margin_set = margin_set
    db.session.flush()
    return f"{before} -> {margin_set.name if margin_set is not None else 'automatic'}"
