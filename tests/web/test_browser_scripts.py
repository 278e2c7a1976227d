"""Our two small scripts in a real browser, under the strict CSP: the open wave's proof of work
is solved before the answers go, and an invitation link's #code= fills the code page.

Uses the Chromium of tests/web/test_browser.py (skips where it is not installed, as that does).
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import Response
from surveyapp.services.invitations import generate_codes
from tests.web import test_browser
from tests.web.factories import live_server, make_wave, questionnaire_for
from tests.web.test_browser import PHONE, answer_citizen_questionnaire

browser = test_browser.browser  # the module-scoped Chromium fixture, shared


def csp_complaints(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text)
            if "Content Security Policy" in message.text else None)
    return messages


def test_the_browser_solves_the_proof_of_work_and_the_answers_are_stored(browser, app, caplog):
    caplog.set_level(logging.WARNING, logger="werkzeug")
    app.config.update(SURVEYAPP_POW_OPEN_WAVES=True, SURVEYAPP_POW_MAX_NUMBER=5000)
    wave = make_wave()
    try:
        with live_server(app) as base:
            page = browser.new_page(viewport=PHONE)
            complaints = csp_complaints(page)
            page.goto(f"{base}/s/{wave.id}")
            answer_citizen_questionnaire(page, questionnaire_for(wave), "zh")
            page.wait_for_url(f"**/s/{wave.id}/thanks**")
            page.close()
    finally:
        app.config.update(SURVEYAPP_POW_OPEN_WAVES=False, SURVEYAPP_POW_MAX_NUMBER=50000)

    assert db.session.scalars(sa.select(Response)).one().street_code == "310109002"
    assert complaints == []


def test_a_link_with_the_code_after_the_hash_fills_the_code_page(browser, app, caplog):
    caplog.set_level(logging.WARNING, logger="werkzeug")
    wave = make_wave(mode="invitation", districts=["310109"])
    code = generate_codes(wave, "310109", 1)[0]
    db.session.commit()

    with live_server(app) as base:
        page = browser.new_page(viewport=PHONE)
        complaints = csp_complaints(page)
        page.goto(f"{base}/s/{wave.id}#code={code}")
        filled = page.locator("#code").input_value()
        address = page.url
        page.get_by_role("button", name="继续").click()
        page.wait_for_load_state()
        hidden = page.locator('input[name="code"]').get_attribute("value")
        page.close()

    assert filled == code and "#" not in address and code not in address
    assert hidden == code  # the form came back, carrying the code in its body
    assert complaints == []
