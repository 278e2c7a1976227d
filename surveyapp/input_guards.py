"""The request guard: text no part of the service can store is refused at the edge.

PostgreSQL cannot store a NUL character in a text column, and no encoder can write a lone
surrogate (JSON's "\\ud800" decodes to one); either used to reach the database or an encoder
and fail there with a 500. So before anything else reads a request (CSRF protection and every
view included) the guard looks at every path segment, query parameter, form field, uploaded
file name and JSON body, keys and values alike, and answers 400 naming the field.

It also refuses a JSON body sent to a page that takes forms (415): Flask-WTF would read it as
form data, and a list or nested object there broke the form code. JSON bodies are read with a
depth limit (surveyapp.bounded_parsers), also here, so a body nested too deep gets its own 400.

Pages get the bilingual error page; the API its JSON error in the client's language.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Request, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

from surveyapp.bounded_parsers import UNSTORABLE, BoundedJSONProvider, JSONTooDeep, loads_json
from surveyapp.i18n import API_PATH_PREFIX, current_language, in_both_languages, refresh_locale

SHOWN_NAME_LENGTH = 40


class InputRefused(HTTPException):
    """A request refused by the guard, with its message in both languages."""

    def __init__(self, status: type[HTTPException], title: Callable[[], str],
                 message: Callable[[], str]) -> None:
        self.code = status.code
        self.titles = in_both_languages(title)
        self.messages = in_both_languages(message)
        super().__init__(self.messages[current_language()])


def register(app: Flask) -> None:
    """Install the guard ahead of every other before_request function (call it first)."""
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_unstorable_input)
    app.register_error_handler(InputRefused, _refused_page)


def refuse_unstorable_input() -> None:
    req = request._get_current_object()  # one proxy lookup, not one per field
    if req.is_json and not req.path.startswith(API_PATH_PREFIX):
        raise InputRefused(UnsupportedMediaType, lambda: _("Not a form"), lambda: _(
            "Please send the form from its page: this address accepts form data, not JSON."))
    for field, text in _request_texts(req):
        match = UNSTORABLE.search(text)
        if match is not None:
            _refuse_text(_shown(field), nul=match.group() == "\x00")


def _refuse_text(field: str, nul: bool) -> None:
    if nul:
        raise InputRefused(BadRequest, _title, lambda: _(
            "%(field)s: must not contain NUL characters", field=field))
    raise InputRefused(BadRequest, _title, lambda: _(
        "%(field)s: is not valid Unicode text (it contains a lone surrogate)", field=field))


def _title() -> str:
    return _("The request could not be handled")


def _request_texts(req: Request) -> Iterator[tuple[str, str]]:
    """(field, text) for every name and value a client can send us, paths first (the field's
    name as sent: it is made safe to show only when refused)."""
    for name, value in (req.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    for source in (req.args, req.form, req.files):
        for name, value in source.items(multi=True):
            name = name or ""  # a multipart part may come without a name
            yield name, name
            yield name, getattr(value, "filename", value) or ""
    if req.is_json:
        yield from _json_texts(_json_body(req), "")


def _json_body(req: Request) -> Any:
    """The decoded body; None when it is not JSON at all (the view says so in its own way)."""
    try:
        return loads_json(req.get_data(cache=True))
    except JSONTooDeep as error:
        limit = error.limit
        raise InputRefused(BadRequest, _title, lambda: "body: " + _(
            "JSON nested more than %(limit)d levels deep", limit=limit)) from None
    except ValueError:
        return None


def _json_texts(document: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every key and string in a decoded JSON document, each with its path (``a.b[2]``) as sent."""
    pending = [(document, path or "body")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = key if where == "body" else f"{where}.{key}"
                yield inner, key
                pending.append((item, inner))


def _shown(name: str) -> str:
    """A field name or path safe to repeat in a message: NUL and surrogates escaped, length
    bounded."""
    safe = name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return safe[:SHOWN_NAME_LENGTH]


def _refused_page(error: InputRefused):
    if request.path.startswith(API_PATH_PREFIX):
        from surveyapp.blueprints.api import http_error

        return http_error(error)
    refresh_locale()  # the guard ran before the locale was refreshed for this request
    return render_template("error.html", status=error.code,
                           bilingual=(error.titles, error.messages)), error.code
