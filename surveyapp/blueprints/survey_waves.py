"""The wave a form page shows and its POST stores to, read at most once a ``FORM_WAVE_SECONDS``.

A form page needs nothing from the database but the wave's row (its layout is kept by
survey_layouts), and reading it cost three round trips (BEGIN, SELECT, ROLLBACK) and the ORM's
loading: most of a form page's time under load, and 14 % of a worker's time under residents'
load. A row read a second ago is as good as one read now: after a wave is created only its
window moves (opened or closed by hand), and the statement that stores a response's one-time
token checks the window as stored at that moment (services.submission), so a wave an admin has
just closed takes not one response more. A wave that the kept row says is not open is read
afresh before a POST is refused, so a reopened wave takes answers at once; its form page may
say "closed" for up to ``FORM_WAVE_SECONDS`` more.

The row is kept as one detached Wave (with its questionnaire version, text not loaded) that
every request and thread shares read-only: building a session's own copy of it per request cost
0.18 ms of CPU, a sixth of a form page's. It belongs to no session, so nothing can add, change
or lazy-load through it; what a layout's first build needs beyond its columns (the
questionnaire's text) is read through the request's session (``version_of``).
"""
from __future__ import annotations

import threading
import time
from typing import Any

from flask import current_app
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

from surveyapp.extensions import db
from surveyapp.models.survey import QuestionnaireVersion, Wave

MAX_WAVES = 256
# The wave and its questionnaire version's identity in one query (the YAML text only on a
# layout's first build).
WAVE_WITH_VERSION = joinedload(Wave.questionnaire_version).defer(QuestionnaireVersion.source_text)
_WAVE_COLUMNS = tuple(column.key for column in Wave.__mapper__.column_attrs)
_VERSION_COLUMNS = tuple(column.key for column in QuestionnaireVersion.__mapper__.column_attrs
                         if column.key != "source_text")

_lock = threading.Lock()
_rows: dict[int, tuple[float, Wave]] = {}


def current_wave(wave_id: int) -> Wave | None:
    """The wave as stored now (one query, whatever the session holds already); kept for
    ``recent_wave``."""
    wave = db.session.get(Wave, wave_id, options=[WAVE_WITH_VERSION], populate_existing=True)
    if wave is not None and current_app.config["SURVEYAPP_FORM_WAVE_SECONDS"] > 0:
        _keep(wave)
    return wave


def recent_wave(wave_id: int) -> Wave | None:
    """The wave as stored at most ``FORM_WAVE_SECONDS`` ago, for a page."""
    kept = _kept(wave_id)
    return _known(kept) if kept is not None else current_wave(wave_id)


def wave_to_store(wave_id: int) -> Wave | None:
    """The wave a POST stores its response to: the kept one while it says open (the token's
    INSERT checks the window as stored, services.submission), else the wave as stored now, so
    that a wave reopened a moment ago takes the answers."""
    kept = _kept(wave_id)
    if kept is not None:
        wave = _known(kept)
        if wave.status() == "open":
            return wave
    return current_wave(wave_id)


def version_of(wave: Wave) -> QuestionnaireVersion:
    """The wave's questionnaire version in this request's session, so that its text loads (a
    kept wave's version is detached: no query unless the session lacks it)."""
    return db.session.get(QuestionnaireVersion, wave.questionnaire_version_id)


def _kept(wave_id: int) -> Wave | None:
    """The kept wave, if read recently enough."""
    with _lock:
        kept = _rows.get(wave_id)
    if kept is None or time.monotonic() - kept[0] >= current_app.config[
            "SURVEYAPP_FORM_WAVE_SECONDS"]:
        return None
    return kept[1]


def _known(kept: Wave) -> Wave:
    """The kept wave, or the session's own if it holds one (as fresh or fresher)."""
    present = db.session().identity_map.get(identity_key(Wave, kept.id))
    return present if present is not None else kept


def _keep(wave: Wave) -> None:
    kept = _detached_copy(wave)
    with _lock:
        _rows.pop(wave.id, None)
        while len(_rows) >= MAX_WAVES:
            _rows.pop(next(iter(_rows)))  # the oldest entry
        _rows[wave.id] = (time.monotonic(), kept)


def forget_waves() -> None:
    """Read every wave afresh (a database emptied under a running app, as tests do)."""
    with _lock:
        _rows.clear()


def _detached_copy(wave: Wave) -> Wave:
    """A copy of the loaded wave and its version in no session, as if loaded and detached."""
    version = wave.questionnaire_version
    copy = _stored(Wave(**{key: getattr(wave, key) for key in _WAVE_COLUMNS}))
    set_committed_value(copy, "questionnaire_version", _stored(QuestionnaireVersion(
        **{key: getattr(version, key) for key in _VERSION_COLUMNS})))
    return copy


def _stored(instance: Any) -> Any:
    make_transient_to_detached(instance)  # as loaded: unchanged, attributes not given unloaded
    return instance
