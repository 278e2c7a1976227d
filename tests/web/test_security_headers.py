"""Security headers on every response; staff pages and downloads are never cached."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from surveyapp.extensions import db
from tests.web.factories import make_wave
from tests.web.staff_fixtures import login_as, make_user, staff_client

TEMPLATES = Path(__file__).resolve().parents[2] / "surveyapp" / "templates"
# Anything a CSP without 'unsafe-inline' would block: inline scripts and styles, style="",
# on*="" handlers and javascript: URLs.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=|javascript:",
                    re.IGNORECASE)


@pytest.fixture
def client(app):
    return staff_client(app)


@pytest.fixture
def admin(app, client):
    user = make_user("admin", username="chen")
    db.session.commit()
    login_as(client, user)
    return user


@pytest.fixture
def wave(app):
    return make_wave(mode="invitation", districts=["310109"])


def assert_security_headers(response) -> None:
    headers = response.headers
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/s/999", 404), ("/static/survey.css", 200), ("/auth/login", 200),
    ("/admin/", 302), ("/api/v1/openapi.json", 200), ("/api/v1/waves", 401), ("/nowhere", 404),
])
def test_every_response_carries_the_security_headers(client, path, status):
    with client.get(path) as response:  # closed: a static file is served from an open file
        assert response.status_code == status
        assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_hsts_is_sent_when_cookies_are_https_only(app, client):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = client.get("/", base_url="https://localhost")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(response.headers["Strict-Transport-Security"].split("=")[1]) >= 15552000


@pytest.mark.parametrize("path", ["/admin/", "/admin/users", "/admin/audit", "/bureau/",
                                  "/auth/login", "/admin/nowhere"])
def test_staff_pages_are_not_cached_and_cannot_be_framed(client, admin, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_downloads_are_not_cached(client, admin, wave):
    path = f"/admin/waves/{wave.id}/invitations"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get(path).get_data(as_text=True)).group(1)
    response = client.post(path, data={"district": "310109", "street": "", "count": "2",
                                       "csrf_token": token})
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"


def test_no_template_has_inline_script_style_or_handlers():
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group()}"
                 for path in TEMPLATES.rglob("*.html")
                 for match in INLINE.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_rendered_staff_pages_have_nothing_inline(client, admin, wave):
    for path in ("/admin/", "/admin/users", "/admin/audit", f"/admin/waves/{wave.id}/progress",
                 f"/admin/waves/{wave.id}/quality", f"/admin/waves/{wave.id}/invitations",
                 "/bureau/", f"/s/{wave.id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert not INLINE.search(page.get_data(as_text=True)), path
