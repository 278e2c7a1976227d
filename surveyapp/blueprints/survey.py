"""Residents: list open surveys, show the questionnaire, accept a response.

Status codes, chosen so that a resident sees a clear page and a client can tell cases apart:
404 unknown wave; 403 wave not open yet (the page says when it opens); 410 wave closed;
400 tampered or stale form (unknown or repeated fields, bad ticket); a failed CSRF check (the
form left open too long) re-shows the form with the answers kept and a fresh token (400);
413 body too large; 422 answers that need correcting (form re-shown with the answers kept);
409 form already submitted (a double click or resent POST: the first response counts, nothing
more is stored) or invitation code already used; 403 unknown or missing invitation code.
Invitation codes travel only in POST bodies (the code page posts to /s/<id>/code), never in a
URL; 429 too many requests from one client (surveyapp.rate_limits); 403 with the form re-shown
when an open wave asks for a proof of work (SURVEYAPP_POW_OPEN_WAVES) and none came.
A valid POST stores the response and redirects (303) to the thank-you page. A POST from the
form's language button re-shows the form in the other language with the answers kept (200),
without checking or storing them, so the form's one-time ticket stays unused.
"""
from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as HTTPResponse

from surveyapp.extensions import db
from surveyapp.forms import Places, SurveyForm, build_survey_form
from surveyapp.i18n import (
    SWITCH_FIELD,
    current_language,
    in_both_languages,
    posted_switch,
    refresh_locale,
    template_context,
)
from surveyapp.models.survey import InvitationCode, Wave
from surveyapp.services import proof_of_work
from surveyapp.services.catalog import questionnaire_of
from surveyapp.services.invitations import find_code
from surveyapp.services.submission import (
    Submission,
    SubmissionRejected,
    issue_form_ticket,
    read_form_ticket,
    seconds_since,
    submit_response,
)
from surveyapp.services.waves import open_waves

bp = Blueprint("survey", __name__)
DATE_FORMAT = "yyyy-MM-dd HH:mm"  # in BABEL_DEFAULT_TIMEZONE (Shanghai time); same in zh and en
bp.app_context_processor(template_context)
# The locale is cached on the app context; a context reused across requests (as the test
# client does inside an app context) must not keep the previous request's language.
bp.before_app_request(refresh_locale)


@bp.get("/")
def index() -> str:
    return render_template("survey/index.html", waves=open_waves())


@bp.route("/s/<int:wave_id>", methods=["GET", "POST"])
def form(wave_id: int) -> HTTPResponse | tuple[str, int]:
    page = _form_page(_collecting_wave(wave_id))
    if not isinstance(page, _FormPage):
        return page
    wave, survey_form, places, invitation = page
    lang = current_language()
    if request.method == "GET":
        survey_form.ticket.data = issue_form_ticket(wave)
        return _show(wave, survey_form, places), 200
    if posted_switch():  # the same answers in the other language: not checked, not stored
        return _show(wave, survey_form, places), 200
    _reject_unknown_fields(survey_form)
    if not survey_form.validate():
        return _show(wave, survey_form, places), 422
    if not _proof_of_work_done(wave, survey_form):
        return _show(wave, survey_form, places, _("Your answers were not sent yet: this survey "
                     "asks your browser to do a short automatic check first, which needs "
                     "JavaScript. Please turn JavaScript on, or wait until the check below says "
                     "it is done, and press “Submit answers” again.")), 403
    try:
        ticket = read_form_ticket(survey_form.ticket.data or "", wave)
        submit_response(wave, _submission(wave, survey_form, ticket, invitation, lang))
    except SubmissionRejected as rejected:
        db.session.rollback()
        return _rejected(rejected)
    db.session.commit()
    return redirect(url_for("survey.thanks", wave_id=wave.id, lang=lang), 303)


@bp.route("/s/<int:wave_id>/code", methods=["GET", "POST"])
def enter_code(wave_id: int) -> HTTPResponse | tuple[str, int]:
    """The invitation code, typed or filled in from the link's #fragment, arrives by POST only.

    A code in a URL would sit in access logs next to the client's address; so the code page
    posts here, and the form shown carries the code on in a hidden field. A GET (the code
    page's language link) goes back to the code page.
    """
    wave = _collecting_wave(wave_id)
    if request.method == "GET" or wave.mode != "invitation":
        return redirect(url_for("survey.form", wave_id=wave.id, lang=current_language()), 303)
    page = _form_page(wave)
    if not isinstance(page, _FormPage):
        return page
    page.form.ticket.data = issue_form_ticket(wave)
    return _show(page.wave, page.form, page.places), 200


class _FormPage(NamedTuple):
    wave: Wave
    form: SurveyForm
    places: Places
    invitation: InvitationCode | None


def _form_page(wave: Wave) -> _FormPage | tuple[str, int]:
    """The wave's form (bound to any posted answers), or the invitation page to show instead."""
    invitation = None
    if wave.mode == "invitation":
        invitation, problem = _invitation(wave)
        if invitation is None:
            return problem
    places = _places(wave, current_language(), invitation)
    survey_form = build_survey_form(questionnaire_of(wave.questionnaire_version),
                                    current_language(), places)
    return _FormPage(wave, survey_form, places, invitation)


@bp.get("/s/<int:wave_id>/thanks")
def thanks(wave_id: int) -> str:
    wave = db.session.get(Wave, wave_id) or abort(404)
    return render_template("survey/thanks.html", wave=wave)


def _collecting_wave(wave_id: int) -> Wave:
    """The wave, or an error page: 404 unknown, 403 not open yet, 410 closed."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404, _("There is no survey at this address. Please check the link you were given."))
    status = wave.status()
    if status == "scheduled":
        abort(403, _("This survey opens on %(date)s. Please come back then.",
                     date=format_datetime(wave.opens_at, DATE_FORMAT)))
    if status == "closed":
        abort(410, _("This survey closed on %(date)s. Thank you for your interest.",
                     date=format_datetime(wave.closes_at, DATE_FORMAT)))
    return wave


def _invitation(wave: Wave) -> tuple[InvitationCode | None, tuple[str, int] | None]:
    """The invitation named by the posted code, or the page to show instead.

    The query string is never read: a code there would have been logged already.
    """
    code = (request.form.get("code") or "").strip()
    if not code and request.method == "GET":
        return None, (render_template("survey/code.html", wave=wave, error=None), 200)
    if not code:
        error = _("This survey needs the code printed on your invitation. Please type it in.")
        return None, (render_template("survey/code.html", wave=wave, error=error), 403)
    invitation = find_code(wave, code)
    if invitation is None:
        error = _("This code is not valid for this survey. Please check it and try again; "
                  "letters and digits only, dashes and spaces do not matter.")
        return None, (render_template("survey/code.html", wave=wave, error=error, code=code), 403)
    if invitation.used_at is not None:
        error = _("This code has already been used. Each code admits one response.")
        return None, (render_template("survey/code.html", wave=wave, error=error, code=code), 409)
    return invitation, None


def _places(wave: Wave, lang: str, invitation: InvitationCode | None) -> Places:
    """The districts (and streets) a resident may choose: the wave's, or the invitation's."""
    districts = [d for d in wave.districts
                 if invitation is None or d.code == invitation.district_code]
    streets = {
        d.code: tuple((s.code, s.name(lang)) for s in d.streets
                      if invitation is None or invitation.street_code in (None, s.code))
        for d in districts
    }
    return Places(tuple((d.code, d.name(lang)) for d in districts), streets)


def _reject_unknown_fields(survey_form: SurveyForm) -> None:
    """A body with fields the form does not have, or a field twice, was not sent by our form."""
    for name in request.form:
        if (name not in survey_form and name != proof_of_work.FIELD) \
                or len(request.form.getlist(name)) > 1:
            abort(400, _("The form contained an unexpected field (%(name)s). Please reload the "
                         "survey page and answer again.", name=name[:40]))


def _submission(wave: Wave, survey_form: SurveyForm, ticket, invitation, lang: str) -> Submission:
    return Submission(
        district=survey_form.value("district") or "",
        street=survey_form.value("street"),
        sex=survey_form.value("sex"),
        age_group=survey_form.value("age_group"),
        residence_years=survey_form.value("residence_years"),
        comment=survey_form.value("comment"),
        answers=survey_form.answers(),
        language=lang,
        channel="invitation" if wave.mode == "invitation" else "web",
        duration_seconds=seconds_since(ticket.issued_at),
        token=ticket.token,
        invitation=invitation,
    )


def _show(wave: Wave, survey_form: SurveyForm, places: Places, notice: str | None = None) -> str:
    challenge = (proof_of_work.issue_challenge(survey_form.ticket.data or "")
                 if proof_of_work.enabled_for(wave) else None)
    return render_template("survey/form.html", wave=wave, form=survey_form,
                           questionnaire=survey_form.questionnaire,
                           district_names=dict(places.districts), switch_field=SWITCH_FIELD,
                           notice=notice, proof_of_work=challenge,
                           proof_of_work_field=proof_of_work.FIELD)


def _proof_of_work_done(wave: Wave, survey_form: SurveyForm) -> bool:
    """An open wave configured for it needs a solved challenge bound to this form's ticket."""
    return not proof_of_work.enabled_for(wave) or proof_of_work.is_solved(
        request.form.get(proof_of_work.FIELD, ""), survey_form.ticket.data or "")


def _rejected(rejected: SubmissionRejected) -> tuple[str, int]:
    pages = {
        "duplicate": (409, _("Already received"),
                      _("We have already received your answers from this form. Thank you! "
                        "Nothing more needs to be done.")),
        "code_used": (409, _("Code already used"),
                      _("This code has already been used. Each code admits one response.")),
        "code_mismatch": (403, _("Invitation not valid here"),
                          _("This invitation code is for another survey, district or street.")),
        "closed": (410, _("Survey closed"),
                   _("This survey is no longer accepting answers. Thank you for your interest.")),
        "ticket_expired": (400, _("Form expired"),
                           _("This form was opened too long ago. Please reload the survey page "
                             "and answer again.")),
        "ticket": (400, _("Form not recognised"),
                   _("This form could not be verified. Please reload the survey page and answer "
                     "again.")),
    }
    status, title, message = pages[rejected.reason]
    return render_template("error.html", title=title, message=message, status=status), status


@bp.app_errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> tuple[str, int]:
    """Missing or stale CSRF token: usually a form left open past its time limit.

    A resident's answers are not thrown away: the survey form comes back with them filled in
    and a fresh token, to be checked and sent again (nothing is stored until then; the form's
    ticket is kept, so the time taken still counts from the first display).
    """
    if request.endpoint == "survey.form" and request.method == "POST":
        wave = db.session.get(Wave, (request.view_args or {}).get("wave_id"))
        if wave is not None and wave.status() == "open":
            page = _form_page(wave)
            if not isinstance(page, _FormPage):
                return page
            notice = _("For your security this form expired before it was sent. Your answers "
                       "are kept below: please check them and press “Submit answers” again.")
            return _show(page.wave, page.form, page.places, notice), 400
    titles = in_both_languages(lambda: _("Please reload the page"))
    messages = in_both_languages(lambda: _(
        "Your answers could not be accepted because the form's security check failed "
        "(it may have been open too long, or cookies are blocked). Please reload the page, "
        "answer again and submit."))
    return render_template("error.html", status=400, bilingual=(titles, messages)), 400


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    titles = in_both_languages(lambda: _("Too much text"))
    messages = in_both_languages(lambda: _(
        "What you sent is larger than this service accepts, so nothing was stored. "
        "Please shorten your comment and try again."))
    return render_template("error.html", status=413, bilingual=(titles, messages)), 413
