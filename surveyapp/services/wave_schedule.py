"""Opening and closing waves by hand: the window is moved, so the history stays truthful."""
from __future__ import annotations

from datetime import datetime

from surveyapp.extensions import db
from surveyapp.models.survey import Wave, as_utc, utcnow
from surveyapp.services.waves import WaveError


def open_wave(wave: Wave, closes_at: datetime, now: datetime | None = None) -> None:
    """Accept responses from ``now`` until ``closes_at``.

    A scheduled wave opens now; a closed wave reopens with the new closing time.
    """
    moment = as_utc(now or utcnow())
    if as_utc(closes_at) <= moment:
        raise WaveError("closes_at: must be in the future")
    if wave.status(moment) == "scheduled":
        wave.opens_at = moment
    wave.closes_at = as_utc(closes_at)
    db.session.flush()


def close_wave(wave: Wave, now: datetime | None = None) -> None:
    """Stop accepting responses now; only an open wave can be closed."""
    moment = as_utc(now or utcnow())
    if wave.status(moment) != "open":
        raise WaveError(f"wave: {wave.label} is {wave.status(moment)}, not open")
    wave.closes_at = moment
    db.session.flush()
