"""A wave's form as it looks in one language: built once per process, not on every request.

What a resident is offered depends on the wave (its questionnaire version and districts), the
geography (district and street names), the language and, for an invitation, the district or
street it admits; no request changes any of these. So each combination's places (read in one
query), WTForms class and fresh page are kept here, and a form GET costs the wave's row, a CSRF
token and a ticket. Entries expire after ``LAYOUT_SECONDS``, so that renamed streets or an edited
questionnaire version without responses reach a running server without a restart; a wave's
districts and questionnaire version never change after it is created.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import escape

from surveyapp.blueprints.survey_waves import version_of
from surveyapp.extensions import db
from surveyapp.forms import Places, SurveyForm, survey_form_class
from surveyapp.models.survey import District, InvitationCode, Street, Wave, as_utc, wave_district
from surveyapp.services.catalog import questionnaire_of

LAYOUT_SECONDS = 300.0
MAX_LAYOUTS = 256
# Stand-ins for what differs between two fresh pages of one layout: random per process, so no
# questionnaire text can contain them.
CSRF_MARK = f"csrf-{secrets.token_hex(8)}"
TICKET_MARK = f"ticket-{secrets.token_hex(8)}"
CODE_MARK = f"code-{secrets.token_hex(8)}"


@dataclass
class FormLayout:
    """The places and form class of one wave, language and invitation scope.

    ``fresh_page`` is the unanswered form rendered with the marks above instead of the CSRF
    token, ticket and invitation code; the view fills it in on first use.
    """

    places: Places
    form_class: type[SurveyForm]
    fresh_page: str | None = None

    def fill(self, csrf_token: str, ticket: str, code: str) -> str:
        """The fresh page for one request (the values escaped as the template would)."""
        return ((self.fresh_page or "").replace(CSRF_MARK, str(escape(csrf_token)))
                .replace(TICKET_MARK, str(escape(ticket)))
                .replace(CODE_MARK, str(escape(code))))


_lock = threading.Lock()
_layouts: dict[tuple, tuple[float, FormLayout]] = {}


def form_layout(wave: Wave, lang: str, invitation: InvitationCode | None) -> FormLayout:
    """The layout for ``wave`` in ``lang`` (restricted to ``invitation``'s place, if any)."""
    scope = (invitation.district_code, invitation.street_code) if invitation else None
    # created_at tells apart two waves that got the same id (SQLite reuses deleted ids).
    key = (wave.id, as_utc(wave.created_at), wave.questionnaire_version_id, lang, scope)
    now = time.monotonic()
    with _lock:
        kept = _layouts.get(key)
    if kept is not None and now - kept[0] < LAYOUT_SECONDS:
        return kept[1]
    places = wave_places(wave, lang, invitation)
    questionnaire = questionnaire_of(version_of(wave))
    layout = FormLayout(places, survey_form_class(questionnaire, lang, places))
    with _lock:
        _layouts.pop(key, None)
        while len(_layouts) >= MAX_LAYOUTS:
            _layouts.pop(next(iter(_layouts)))  # the oldest entry
        _layouts[key] = (now, layout)
    return layout


def wave_places(wave: Wave, lang: str, invitation: InvitationCode | None) -> Places:
    """The districts (and streets) a resident may choose, in one query: the wave's, or the
    invitation's district (and street)."""
    query = (
        sa.select(District.code, District.name_zh, District.name_en,
                  Street.code, Street.name_zh, Street.name_en)
        .join(wave_district, wave_district.c.district_code == District.code)
        .outerjoin(Street, Street.district_code == District.code)
        .where(wave_district.c.wave_id == wave.id)
        .order_by(District.code, Street.code)
    )
    if invitation is not None:
        query = query.where(District.code == invitation.district_code)
        if invitation.street_code is not None:
            query = query.where(Street.code == invitation.street_code)
    districts: dict[str, str] = {}
    streets: dict[str, list[tuple[str, str]]] = {}
    for code, zh, en, street, street_zh, street_en in db.session.execute(query):
        districts[code] = en if lang == "en" else zh
        streets.setdefault(code, [])
        if street is not None:
            streets[code].append((street, street_en if lang == "en" else street_zh))
    return Places(tuple(districts.items()),
                  {code: tuple(pairs) for code, pairs in streets.items()})
