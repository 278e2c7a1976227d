"""Security headers on every response, and no caching of staff pages or downloads.

A small after_request hook rather than Flask-Talisman: the policy is a handful of fixed
headers, and Talisman would also redirect to HTTPS and rewrite the session cookie flags that
surveyapp.config already sets from SURVEYAPP_SECURE_COOKIES (behind a TLS-terminating proxy the
redirect loops), so we would spend as many lines turning its features off as this module has.

The Content-Security-Policy allows scripts and styles only from our own static files: no inline
<script>, <style>, style="" or on* handler anywhere, so injected markup cannot run or restyle
the page. frame-ancestors 'none' (with X-Frame-Options for old browsers) stops another page,
same-site or not, from framing a signed-in staff page.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

CSP_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(CSP_DIRECTIVES)
FIXED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # a year; only sent when cookies are HTTPS-only, i.e. behind HTTPS
STAFF_BLUEPRINTS = ("auth", "bureau", "admin", "api")
STAFF_PREFIXES = "surveyapp.staff_prefixes"  # app.extensions key: the staff blueprints' prefixes


def register_security_headers(app: Flask) -> None:
    """Call after the blueprints are registered: their URL prefixes are read once, here."""
    app.extensions[STAFF_PREFIXES] = tuple(
        app.blueprints[name].url_prefix for name in STAFF_BLUEPRINTS
        if name in app.blueprints and app.blueprints[name].url_prefix)
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set the fixed headers, HSTS behind HTTPS, and no-store where caching would leak data."""
    response.headers.update(FIXED_HEADERS)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = HSTS
    if _is_staff_request() or _is_download(response):
        response.headers["Cache-Control"] = "no-store"
    return response


def _is_staff_request() -> bool:
    """Under a staff blueprint, routed or not (a 404 under /admin/ is a staff page too)."""
    req = request._get_current_object()  # one proxy lookup, not one per attribute
    if req.blueprint in STAFF_BLUEPRINTS:
        return True
    path = req.path
    return any(path == prefix or path.startswith(prefix + "/")
               for prefix in current_app.extensions[STAFF_PREFIXES])


def _is_download(response: Response) -> bool:
    return response.headers.get("Content-Disposition", "").startswith("attachment")
