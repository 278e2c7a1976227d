"""Which open waves this browser has already answered: one signed cookie.

Back, refresh, a second tab or a resent POST after a successful submit must not store a second
response. The form's one-time ticket stops a resent POST; this cookie stops the rest: it maps
each wave answered in this browser to the time of the last accepted response, signed so that it
cannot be forged to point at a time that never was. No identifier of the resident is in it.
Invitation waves do not need it (each code admits one response).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response as HTTPResponse

COOKIE = "surveyapp_answered"
MAX_WAVES = 30  # the most recently answered waves kept in the cookie
MAX_AGE = 400 * 24 * 3600  # seconds: longer than any wave stays open


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="survey-answered")


def _answered() -> dict[str, int]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, int)}


def answered_at(wave_id: int) -> int | None:
    """When (Unix seconds) this browser last had a response to ``wave_id`` accepted, if ever."""
    return _answered().get(str(wave_id))


def remember_answered(response: HTTPResponse, wave_id: int, moment: datetime) -> None:
    """Record on ``response`` that this browser's response to ``wave_id`` was accepted."""
    answered = _answered()
    answered.pop(str(wave_id), None)
    answered[str(wave_id)] = int(moment.timestamp())
    kept = dict(list(answered.items())[-MAX_WAVES:])
    response.set_cookie(COOKIE, _serializer().dumps(kept), max_age=MAX_AGE, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
