"""The addresses residents are given: a wave's form, and an invitation's link with its code.

The codes CSV, the printed letters and the posters all take their links from here, so every
channel points at the same place. ``SURVEYAPP_PUBLIC_URL`` is the address residents reach
(the admin pages may be served under another, internal, host); unset, the current request's
host is used, and outside a request (the command line) it is required.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


class LinkError(RuntimeError):
    """No public address is known to build a link with."""


def survey_url(wave_id: int) -> str:
    """The wave's form, e.g. https://survey.example.gov.cn/s/5 (short enough to type)."""
    base = current_app.config.get("SURVEYAPP_PUBLIC_URL")
    if base:
        parts = urlsplit(base)
        adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                           url_scheme=parts.scheme)
        return adapter.build("survey.form", {"wave_id": wave_id}, force_external=True)
    if not has_request_context():
        raise LinkError("SURVEYAPP_PUBLIC_URL：请设置居民访问的地址 / set the address residents "
                        "reach, e.g. https://survey.example.gov.cn")
    return url_for("survey.form", wave_id=wave_id, _external=True)


def invitation_url(wave_id: int, code: str) -> str:
    """The form's address with the code after '#', which the code page fills in.

    The fragment never reaches a server, so the code is in no access log."""
    return f"{survey_url(wave_id)}#code={code}"
