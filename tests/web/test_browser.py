"""A real headless browser on a phone-sized screen answers the citizen questionnaire.

Debian's chromium at /usr/bin/chromium, driven by Playwright, fills the form once in Chinese
and once in English through labels and the keyboard (no JavaScript in the page), submits, and
the response must be stored. .ci/run installs chromium; elsewhere the test skips.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import Answer, Response
from tests.web.factories import live_server, make_wave, questionnaire_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser test needs Debian's chromium at /usr/bin/chromium "
                    "(apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def reveal(page, locator):
    """``locator``, after pressing Next until it is on the page shown: with JavaScript on the
    form is paged (static/paged-form.js); without, everything is on one page already."""
    next_button = page.locator("#page-next")
    while not locator.is_visible() and next_button.is_visible():
        next_button.click()
    return locator


def answer_citizen_questionnaire(page, questionnaire, lang: str) -> None:
    """Fill every question the way a resident would: by visible labels, and by keyboard."""
    demographics = {d.id: d for d in questionnaire.demographics}
    page.get_by_label(demographics["district"].text.get(lang)).select_option("310109")
    page.get_by_label(demographics["street"].text.get(lang)).select_option("310109002")
    for number, item in enumerate(ordered_items(questionnaire), 1):
        group = reveal(page, page.get_by_role("group", name=f"{number}. {item.text.get(lang)}",
                                              exact=True))
        if number == 1:  # keyboard only: focus the first radio, arrow to 3, then to 4
            group.get_by_role("radio").first.focus()
            page.keyboard.press("Space")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
        elif number == 2:
            group.get_by_label(questionnaire.scale_of(item.id).dont_know.label.get(lang)).check()
        else:
            scale = questionnaire.scale_of(item.id)
            group.get_by_label(f"9 {scale.points[8].label.get(lang)}", exact=True).check()
    for demographic in ("sex", "age_group"):
        choice = demographics[demographic].choices[1]
        page.get_by_role("group", name=demographics[demographic].text.get(lang)) \
            .get_by_label(choice.label.get(lang), exact=True).check()
    page.get_by_label(questionnaire.comment.text.get(lang)).fill("道路维修很及时 / roads fixed fast")
    page.get_by_role("button").filter(has_text="提交问卷" if lang == "zh" else "Submit answers") \
        .focus()
    page.keyboard.press("Enter")


def ordered_items(questionnaire):
    """Items in the order the form shows them: by dimension, the overall item last."""
    rated = [i for d in questionnaire.dimensions for i in questionnaire.items_in(d.id)]
    return rated + [i for i in questionnaire.items if i.dimension is None]


@pytest.mark.parametrize("lang, thanks", [("zh", "谢谢您！"), ("en", "Thank you")], ids=["zh", "en"])
def test_a_resident_answers_on_a_phone(browser, app, caplog, lang, thanks):
    caplog.set_level(logging.WARNING, logger="werkzeug")
    wave = make_wave()
    questionnaire = questionnaire_for(wave)

    with live_server(app) as base:
        page = browser.new_page(viewport=PHONE, java_script_enabled=False)
        page.goto(f"{base}/s/{wave.id}" + ("?lang=en" if lang == "en" else ""))
        answer_citizen_questionnaire(page, questionnaire, lang)
        page.wait_for_url(f"**/s/{wave.id}/thanks**")
        heading = page.get_by_role("heading", level=1).inner_text()
        page.close()

    assert heading == thanks
    stored = db.session.scalars(sa.select(Response)).one()
    assert (stored.language, stored.street_code, stored.sex) == (lang, "310109002", "female")
    answers = {a.item_id: a.value for a in db.session.scalars(sa.select(Answer))}
    first, second, *rest = ordered_items(questionnaire)
    assert answers[first.id] == 4
    assert answers[second.id] == 99
    assert {answers[item.id] for item in rest} == {9}
    assert stored.comment == "道路维修很及时 / roads fixed fast"


def test_switching_language_mid_form_keeps_the_answers(browser, app, caplog):
    """The language button posts the form: what was chosen stays chosen, in the other language,
    and Enter on a radio button still submits the answers instead of switching."""
    caplog.set_level(logging.WARNING, logger="werkzeug")
    wave = make_wave()
    questionnaire = questionnaire_for(wave)
    district = next(d for d in questionnaire.demographics if d.id == "district")
    first = ordered_items(questionnaire)[0]

    with live_server(app) as base:
        page = browser.new_page(viewport=PHONE, java_script_enabled=False)
        page.goto(f"{base}/s/{wave.id}")
        page.get_by_label(district.text.zh).select_option("310109")
        group = page.get_by_role("group", name=f"1. {first.text.zh}", exact=True)
        group.get_by_label(f"7 {questionnaire.scale_of(first.id).points[6].label.zh}").check()
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        kept_district = page.get_by_label(district.text.en).input_value()
        group = page.get_by_role("group", name=f"1. {first.text.en}", exact=True)
        kept_answer = group.get_by_role("radio", checked=True).get_attribute("value")
        group.get_by_role("radio", checked=True).focus()
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        summary = page.get_by_role("alert").first.inner_text()
        page.close()

    assert (kept_district, kept_answer) == ("310109", "7")
    assert "Please correct" in summary  # Enter submitted (and was checked), in English
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_back_or_a_second_tab_after_a_submit_store_no_second_response(browser, app, caplog):
    """Open the form in two tabs of one browser, submit the first, press Back (the form page is
    never cached, so the browser asks again and is told "already received") and refresh, then
    submit the second tab: still one response."""
    caplog.set_level(logging.WARNING, logger="werkzeug")
    wave = make_wave()
    questionnaire = questionnaire_for(wave)

    with live_server(app) as base:
        context = browser.new_context(viewport=PHONE, java_script_enabled=False)
        first, second = context.new_page(), context.new_page()
        for tab in (first, second):
            tab.goto(f"{base}/s/{wave.id}?lang=en")
        answer_citizen_questionnaire(first, questionnaire, "en")
        first.wait_for_url(f"**/s/{wave.id}/thanks**")
        first.go_back()
        after_back = first.get_by_role("heading", level=1).inner_text()
        forms_after_back = first.get_by_role("button", name="Submit answers").count()
        first.reload()
        after_refresh = first.get_by_role("heading", level=1).inner_text()
        form_heading = second.get_by_role("heading", level=1).inner_text()
        answer_citizen_questionnaire(second, questionnaire, "en")
        second.wait_for_function(f"document.querySelector('h1').innerText != {form_heading!r}")
        second_tab = second.get_by_role("heading", level=1).inner_text()
        context.close()

    assert (after_back, after_refresh, second_tab) == ("Already received",) * 3
    assert forms_after_back == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
