"""Residents: list open surveys, show the questionnaire, accept a response.

Status codes, chosen so that a resident sees a clear page and a client can tell cases apart:
404 unknown wave; 403 wave not open yet (the page says when it opens); 410 wave closed;
400 tampered or stale form (unknown or repeated fields, bad ticket); a failed CSRF check (the
form left open too long) re-shows the form with the answers kept and a fresh token (400);
413 body too large; 422 answers that need correcting (form re-shown with the answers kept);
409 form already submitted (a double click, a resent POST, or a form opened before this
browser's response to the wave was accepted: the first response counts, nothing more is
stored) or invitation code already used; 403 unknown or missing invitation code.
Invitation codes travel only in POST bodies (the code page posts to /s/<id>/code), never in a
URL; 429 too many requests from one client (surveyapp.rate_limits); 403 with the form re-shown
when an open wave asks for a proof of work (SURVEYAPP_POW_OPEN_WAVES) and none came.
A valid POST stores the response and redirects (303) to the thank-you page, remembering in a
signed cookie that this browser has answered the wave (survey_done.py): the form page then
answers "already received" (200), with a link to a new response only on a kiosk wave. The form
page is never cached (Cache-Control: no-store). A POST from the form's language button re-shows
the form in the other language with the answers kept (200), without checking or storing them,
so the form's one-time ticket stays unused.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as HTTPResponse

from surveyapp.blueprints.survey_done import answered_at, remember_answered
from surveyapp.blueprints.survey_layouts import (
    CODE_MARK,
    CSRF_MARK,
    TICKET_MARK,
    FormLayout,
    form_layout,
)
from surveyapp.blueprints.survey_waves import current_wave, recent_wave, wave_to_store
from surveyapp.extensions import db
from surveyapp.forms import SurveyForm
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
from surveyapp.services.invitations import find_code
from surveyapp.services.submission import (
    FormTicket,
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
# What a form POST carries besides the questionnaire's fields: the CSRF token (checked by
# CSRFProtect before the view) and the proof of work's solution.
NOT_FORM_FIELDS = frozenset({"csrf_token", proof_of_work.FIELD})
bp.app_context_processor(template_context)
# The locale is cached on the app context; a context reused across requests (as the test
# client does inside an app context) must not keep the previous request's language.
bp.before_app_request(refresh_locale)


@bp.get("/")
def index() -> str:
    return render_template("survey/index.html", waves=open_waves())


@bp.after_request
def no_store_form(response: HTTPResponse) -> HTTPResponse:
    """The form holds a one-time ticket and a resident's answers: never from a cache, so Back
    after a submit asks the server again (which answers "already received")."""
    if request.endpoint == "survey.form":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/s/<int:wave_id>", methods=["GET", "POST"])
def form(wave_id: int) -> HTTPResponse | str | tuple[str, int]:
    wave = _collecting_wave(wave_id, stores=request.method == "POST")
    answered = answered_at(wave.id) if wave.mode == "open" else None
    if request.method == "GET" and answered is not None and not _new_response_asked(wave):
        return _already_received(wave), 200
    page = _form_page(wave)
    if not isinstance(page, _FormPage):
        return page
    if request.method == "GET":
        return _fresh_form(page)
    if posted_switch():  # the same answers in the other language: not checked, not stored
        return _show(page), 200
    _reject_unknown_fields(page.form)
    if not page.form.validate():
        return _show(page), 422
    if not _proof_of_work_done(page):
        return _show(page, _("Your answers were not sent yet: this survey asks your browser to "
                             "do a short automatic check first, which needs JavaScript. Please "
                             "turn JavaScript on, or wait until the check below says it is done, "
                             "and press “Submit answers” again.")), 403
    return _accept(page, answered)


@bp.route("/s/<int:wave_id>/code", methods=["GET", "POST"])
def enter_code(wave_id: int) -> HTTPResponse | str | tuple[str, int]:
    """The invitation code, typed or filled in from the link's #fragment, arrives by POST only.

    A code in a URL would sit in access logs next to the client's address; so the code page
    posts here, and the form shown carries the code on in a hidden field. A GET (the code
    page's language link) goes back to the code page.
    """
    wave = _collecting_wave(wave_id, stores=False)  # the code is checked, the form shown
    if request.method == "GET" or wave.mode != "invitation":
        return redirect(url_for("survey.form", wave_id=wave.id, lang=current_language()), 303)
    page = _form_page(wave)
    if not isinstance(page, _FormPage):
        return page
    return _fresh_form(page)


def _new_response_asked(wave: Wave) -> bool:
    """A kiosk's "start a new response" link: the next resident on a shared device."""
    return wave.kiosk and request.args.get("new") == "1"


def _accept(page: _FormPage, answered: int | None) -> HTTPResponse | tuple[str, int]:
    """Store a valid response and answer 303, or show why not (nothing stored).

    The redirect is built before the response is stored (on PostgreSQL the store commits
    itself), so nothing after a successful store can fail: a client that sees an error may
    safely send again (its ticket makes a stored response a "duplicate"), and one that sees
    303 is stored.
    """
    wave, lang = page.wave, current_language()
    response = redirect(url_for("survey.thanks", wave_id=wave.id, lang=lang), 303)
    try:
        ticket = read_form_ticket(page.form.ticket.data or "", wave)
        if answered is not None and not (wave.kiosk and ticket.issued_at.timestamp() > answered):
            raise SubmissionRejected("duplicate", "this browser has answered the wave already")
        stored = submit_response(wave, _submission(page, ticket, lang))
    except SubmissionRejected as rejected:
        db.session.rollback()
        return _rejected(rejected, wave)
    if wave.mode == "open":
        remember_answered(response, wave.id, stored.submitted_at)
    db.session.commit()
    return response


@dataclass
class _FormPage:
    wave: Wave
    layout: FormLayout
    invitation: InvitationCode | None

    @cached_property
    def form(self) -> SurveyForm:
        """The form bound to this request's answers (not needed for a fresh page once kept)."""
        return self.layout.form_class()


def _form_page(wave: Wave) -> _FormPage | tuple[str, int]:
    """The wave's form (bound to any posted answers), or the invitation page to show instead."""
    invitation = None
    if wave.mode == "invitation":
        invitation, problem = _invitation(wave)
        if invitation is None:
            return problem
    layout = form_layout(wave, current_language(), invitation)
    return _FormPage(wave, layout, invitation)


def _fresh_form(page: _FormPage) -> str:
    """The unanswered form: the layout's page rendered once, with this request's CSRF token,
    ticket and (posted) invitation code put in. A proof-of-work challenge is bound to the
    ticket, so such a wave's page is rendered whole each time."""
    code = request.form.get("code", "") if page.invitation else ""
    if proof_of_work.enabled_for(page.wave):
        page.form.ticket.data, page.form.code.data = issue_form_ticket(page.wave), code
        return _show(page)
    if page.layout.fresh_page is None:
        page.form.ticket.data, page.form.code.data = TICKET_MARK, CODE_MARK
        page.layout.fresh_page = render_template(
            "survey/form.html", csrf_token=lambda: CSRF_MARK, **_form_context(page))
    return page.layout.fill(generate_csrf(), issue_form_ticket(page.wave), code)


@bp.get("/s/<int:wave_id>/thanks")
def thanks(wave_id: int) -> str:
    wave = recent_wave(wave_id) or abort(404)
    return render_template("survey/thanks.html", wave=wave)


def _collecting_wave(wave_id: int, stores: bool) -> Wave:
    """The wave, or an error page: 404 unknown, 403 not open yet, 410 closed.

    The wave may be as it was a moment ago (survey_waves); a request that would store a
    response is refused only on the wave as it is now."""
    wave = wave_to_store(wave_id) if stores else recent_wave(wave_id)
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


def _reject_unknown_fields(survey_form: SurveyForm) -> None:
    """A body with fields the form does not have, or a field twice, was not sent by our form."""
    for name in request.form:
        if (name not in survey_form and name not in NOT_FORM_FIELDS) \
                or len(request.form.getlist(name)) > 1:
            abort(400, _("The form contained an unexpected field (%(name)s). Please reload the "
                         "survey page and answer again.", name=name[:40]))


def _submission(page: _FormPage, ticket: FormTicket, lang: str) -> Submission:
    survey_form = page.form
    return Submission(
        district=survey_form.value("district") or "",
        street=survey_form.value("street"),
        sex=survey_form.value("sex"),
        age_group=survey_form.value("age_group"),
        residence_years=survey_form.value("residence_years"),
        comment=survey_form.value("comment"),
        answers=survey_form.answers(),
        language=lang,
        channel="invitation" if page.wave.mode == "invitation" else "web",
        duration_seconds=seconds_since(ticket.issued_at),
        token=ticket.token,
        invitation=page.invitation,
    )


def _form_context(page: _FormPage, notice: str | None = None) -> dict:
    challenge = (proof_of_work.issue_challenge(page.form.ticket.data or "")
                 if proof_of_work.enabled_for(page.wave) else None)
    return dict(wave=page.wave, form=page.form, questionnaire=page.form.questionnaire,
                district_names=dict(page.layout.places.districts), switch_field=SWITCH_FIELD,
                notice=notice, proof_of_work=challenge, proof_of_work_field=proof_of_work.FIELD)


def _proof_of_work_done(page: _FormPage) -> bool:
    """An open wave configured for it needs a solved challenge bound to this form's ticket."""
    return not proof_of_work.enabled_for(page.wave) or proof_of_work.is_solved(
        request.form.get(proof_of_work.FIELD, ""), page.form.ticket.data or "")


def _show(page: _FormPage, notice: str | None = None) -> str:
    """The form with the posted answers (and their errors)."""
    return render_template("survey/form.html", **_form_context(page, notice))


def _already_received(wave: Wave) -> str:
    """This browser's response to the wave is stored: say so, and offer a new response only on
    a kiosk (a shared device)."""
    return render_template("survey/received.html", wave=wave)


def _rejected(rejected: SubmissionRejected, wave: Wave) -> tuple[str, int]:
    if rejected.reason == "duplicate":
        return _already_received(wave), 409
    pages = {
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
        wave = current_wave((request.view_args or {}).get("wave_id"))
        if wave is not None and wave.status() == "open":
            page = _form_page(wave)
            if not isinstance(page, _FormPage):
                return page
            notice = _("For your security this form expired before it was sent. Your answers "
                       "are kept below: please check them and press “Submit answers” again.")
            return _show(page, notice), 400
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
