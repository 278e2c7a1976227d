"""Language choice: Chinese first, English on request (``?lang=en``), remembered in the session.

The JSON API under /api/ keeps no session: it follows the client's Accept-Language header
instead. The command line and scripts have no request at all; they pick a language from the
environment (surveyapp.config.terminal_language) and apply it with :func:`in_language`.

UI strings are English msgids translated by the flask-babel catalog in surveyapp/translations
(zh_Hans_CN; English is the msgid itself, so it needs no catalog). Questionnaire texts are data
and carry both languages. After changing UI strings, from the project root::

    pybabel extract -F surveyapp/translations/babel.cfg --no-location --sort-output \
        -o surveyapp/translations/messages.pot .
    # add the new entries to zh_Hans_CN/LC_MESSAGES/messages.po by hand, in msgid order and
    # its style (`pybabel update` would rewrap the whole file), translate them, then:
    pybabel compile -d surveyapp/translations   # the .mo file is committed: no build step
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from flask import has_request_context, request, session, url_for
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

SUPPORTED = {"zh": "zh_Hans_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
# The language tag a response states (Content-Language), as base.html's <html lang>.
CONTENT_LANGUAGE = {"zh": "zh-CN", "en": "en"}
API_PATH_PREFIX = "/api/"
# A form's language button posts this field, so the answers travel with the switch.
SWITCH_FIELD = "switch_lang"


def current_language() -> str:
    """The short code ('zh' or 'en') of the language this request is served in.

    Outside a request (CLI, services run from a script) it is the default language, so gettext
    works everywhere; callers wanting another language there use :func:`in_language`.
    """
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if request.path.startswith(API_PATH_PREFIX):
        return accepted_language()
    asked = posted_switch() or request.args.get("lang")
    if asked in SUPPORTED:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    return remembered if remembered in SUPPORTED else DEFAULT_LANGUAGE


def accepted_language() -> str:
    """The supported language the client ranks highest in Accept-Language; Chinese otherwise.

    Werkzeug's best_match prefers any exact match over a better-ranked regional one (it would
    answer 'zh' to "en-GB, zh;q=0.5"), so the primary subtags are compared in rank order here.
    """
    for value, quality in request.accept_languages:  # highest quality first
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in SUPPORTED:
            return primary
    return DEFAULT_LANGUAGE


def in_language(lang: str) -> AbstractContextManager[None]:
    """gettext in ``lang`` ('zh' or 'en') inside the block (needs an application context)."""
    return force_locale(SUPPORTED[lang])


def posted_switch() -> str | None:
    """The language a form's switch button asked for, when that button sent this POST."""
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return None
    try:
        asked = request.form.get(SWITCH_FIELD)
    except HTTPException:  # a body refused unread (too large): the error page keeps the language
        return None
    return asked if asked in SUPPORTED else None


def select_locale() -> str:
    return SUPPORTED[current_language()]


def refresh_locale() -> None:
    """Forget the locale flask-babel cached for an earlier request in the same app context."""
    refresh()


def other_language(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def language_switch_url(**keep: Any) -> str:
    """This page in the other language: same endpoint and arguments, plus ``keep`` (e.g. a code).

    After a POST the URL is the form's own, so the switch re-displays the same form.
    """
    view_args = request.view_args or {}
    query = {k: v for k, v in request.args.items()  # path wins; a stray code is not repeated
             if k not in view_args and k != "code"}
    args = {**query, **keep, "lang": other_language(current_language())}
    if request.endpoint is None:  # an unrouted URL (404): stay on it
        return url_for("survey.index", lang=args["lang"])
    return url_for(request.endpoint, **view_args, **args)


def in_both_languages(message: Callable[[], str]) -> dict[str, str]:
    """Evaluate a gettext call once per language, for pages shown before a language is known."""
    texts = {}
    for lang, locale in SUPPORTED.items():
        with force_locale(locale):
            texts[lang] = message()
    return texts


def error_title(error: HTTPException) -> str:
    """A short title for an error page in the current language."""
    titles = {
        400: _("The request could not be handled"),
        403: _("Not available"),
        404: _("Page not found"),
        405: _("Not allowed"),
        409: _("Already done"),
        410: _("Survey closed"),
        413: _("Too much text"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
    }
    return titles.get(error.code or 500, error.name)


def error_description(error: HTTPException) -> str:
    """The message a view passed to abort(), else a generic one in the current language."""
    if error.description and error.description != type(error).description:
        return error.description
    generic = {
        404: _("There is nothing at this address. Please check the link."),
        405: _("This page cannot be used this way."),
        500: _("Please try again later."),
    }
    return generic.get(error.code or 500, _("Please go back and try again."))


def template_context() -> dict[str, Any]:
    """Names every template may use: the language, the other one and the switch link."""
    if not has_request_context():
        return {}
    lang = current_language()
    return {
        "lang": lang,
        "other_lang": other_language(lang),
        "language_names": LANGUAGE_NAMES,
        "language_switch_url": language_switch_url,
        "error_title": error_title,
        "error_description": error_description,
    }
