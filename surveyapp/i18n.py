"""Language choice: Chinese first, English on request (``?lang=en``), remembered in the session."""
from __future__ import annotations

from flask import request, session

SUPPORTED = {"zh": "zh_Hans_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh"


def current_language() -> str:
    """The short code ('zh' or 'en') of the language this request is served in."""
    asked = request.args.get("lang")
    if asked in SUPPORTED:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    return remembered if remembered in SUPPORTED else DEFAULT_LANGUAGE


def select_locale() -> str:
    return SUPPORTED[current_language()]
