"""Rate limits per client address (Flask-Limiter) on the public survey's POST, invitation-code
entry, staff sign-in and the API: one client cannot store dozens of responses a second or try
hundreds of codes.

Counters live in memory by default (one process) or in Redis when
SURVEYAPP_RATELIMIT_STORAGE_URL names one (several gunicorn workers or hosts share it). If the
storage is unreachable the request is served and the error logged: an outage of Redis must not
lock residents out of the survey. The client address is ``request.remote_addr``, the real
client once ProxyFix trusts the configured proxies.

One Limiter per application, not a module-level one: Flask-Limiter keeps its storage and its
on/off switch on the instance, so a shared instance would let one app (a test's, say)
reconfigure another.
"""
from __future__ import annotations

from flask import Flask, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from surveyapp.i18n import API_PATH_PREFIX, in_both_languages

# endpoint -> the config key holding its limits; only POSTs count (reading a page is free).
POST_LIMITS = {
    "survey.form": "SURVEYAPP_RATELIMIT_SURVEY",
    "survey.enter_code": "SURVEYAPP_RATELIMIT_CODE",
    "auth.login": "SURVEYAPP_RATELIMIT_LOGIN",
}
API_LIMIT = "SURVEYAPP_RATELIMIT_API"  # every request to the API blueprint


def register_rate_limits(app: Flask) -> None:
    """Attach a Limiter to ``app`` (after the blueprints) unless RATELIMIT_ENABLED is false."""
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    if not limiter.enabled:
        return
    for endpoint, key in POST_LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(app.config[key], methods=["POST"])(view)
    limiter.limit(app.config[API_LIMIT])(app.blueprints["api"])


def too_many_requests(error: RateLimitExceeded):
    """429 with Retry-After: JSON under /api/, else a page in both languages."""
    wait = error.limit.limit.get_expiry()  # the window's length: the longest wait possible
    if request.path.startswith(API_PATH_PREFIX):
        from surveyapp.blueprints.api import http_error

        response = http_error(error)
    else:
        minutes = max(1, -(-wait // 60))
        titles = in_both_languages(lambda: _("Too many attempts"))
        messages = in_both_languages(lambda: _(
            "Too many requests came from your connection in a short time, so this one was not "
            "handled and nothing was stored. Please wait %(minutes)d minute(s) and try again.",
            minutes=minutes))
        response = make_response(render_template("error.html", status=429,
                                                 bilingual=(titles, messages)), 429)
    response.headers["Retry-After"] = str(wait)
    return response

