"""The bureau's report page in a real browser at 1280 x 800, in Chinese and English: every table
fits (no column hidden behind a sideways scroll), each scrolling region is reachable by the
keyboard, and axe-core (vendored in tests/web/axe/) finds nothing, the method section open.

Uses the Chromium of tests/web/test_browser.py (skips where it is not installed, as that does).
"""
from __future__ import annotations

import logging
import os

import pytest

from surveyapp.extensions import db
from tests.web import test_browser
from tests.web.factories import HONGKOU, live_server
from tests.web.report_data import (
    SUPPRESS_BELOW,
    add_older_wave,
    make_report_waves,
    store_test_margins,
)
from tests.web.staff_fixtures import login_as, make_user, staff_client
from tests.web.test_browser_paged import axe_violations

browser = test_browser.browser  # the module-scoped Chromium fixture, shared
DESKTOP = {"width": 1280, "height": 800}
# Set to a folder to keep a full-page PNG of each page checked (for looking at them).
SCREENSHOTS = os.environ.get("SURVEYAPP_REPORT_SCREENSHOTS")


@pytest.fixture(autouse=True)
def quiet_server(caplog):
    caplog.set_level(logging.WARNING, logger="werkzeug")


@pytest.fixture
def waves(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = SUPPRESS_BELOW
    add_older_wave("2022", days_ago=800, seed=700)  # two change columns: the widest tables
    made = make_report_waves()
    store_test_margins(made.current)  # the weighting table is on the page too
    yield made
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


def _signed_in_page(browser, app, base: str, role: str, districts: list[str]):
    user = make_user(role, districts)
    db.session.commit()
    client = staff_client(app)
    login_as(client, user)
    client.get("/bureau/")  # makes the session cookie
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.add_cookies([{"name": "session", "value": client.get_cookie("session").value,
                          "url": base}])
    return context.new_page()


def _overflowing_tables(page) -> list[str]:
    """Scrolling regions whose table is wider than the region (columns out of sight)."""
    return page.evaluate("""() => [...document.querySelectorAll('.table-scroll')]
        .filter(region => region.scrollWidth > region.clientWidth + 1)
        .map(region => region.getAttribute('aria-labelledby') + ': ' + region.scrollWidth
             + ' > ' + region.clientWidth)""")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("report", ["district", "city"])
def test_report_tables_fit_at_1280_and_axe_finds_nothing(browser, app, waves, lang, report):
    path = (f"/bureau/{waves.current.id}/{HONGKOU}" if report == "district"
            else f"/bureau/{waves.current.id}/city")
    with live_server(app) as base:
        page = _signed_in_page(browser, app, base, "bureau" if report == "district" else
                               "analyst", [HONGKOU] if report == "district" else [])
        page.goto(f"{base}{path}?lang={lang}")
        assert page.locator("h1").count() == 1
        page.locator("details.method summary").click()
        assert page.locator("details.method[open]").count() == 1
        regions = page.locator(".table-scroll")
        assert regions.count() >= 4
        for number in range(regions.count()):
            region = regions.nth(number)
            assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == \
                "group"
        overflowing = _overflowing_tables(page)
        found = axe_violations(page)
        if SCREENSHOTS:
            page.screenshot(path=os.path.join(SCREENSHOTS, f"report-{report}-{lang}.png"),
                            full_page=True)
        page.context.close()
    assert overflowing == []
    assert found == []


def test_the_report_index_passes_axe(browser, app, waves):
    with live_server(app) as base:
        page = _signed_in_page(browser, app, base, "analyst", [])
        page.goto(f"{base}/bureau/")
        assert page.locator("a.card-list, .card-list a").count() >= 1
        found = axe_violations(page)
        if SCREENSHOTS:
            page.screenshot(path=os.path.join(SCREENSHOTS, "report-index.png"), full_page=True)
        page.context.close()
    assert found == []
