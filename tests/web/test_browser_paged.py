"""The paged form (static/paged-form.js) in a real browser on 360 and 390 px phones, zh and en:
one dimension a page with "Page 2 of 5", Back and Next that keep the answers, the street list
that follows the district, answers kept in localStorage and offered back, and axe-core (vendored
in tests/web/axe/, so no network) finding nothing on any page a resident can meet.

Uses the Chromium of tests/web/test_browser.py (skips where it is not installed, as that does).
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from surveyapp.extensions import db
from surveyapp.models.survey import Answer, Response, utcnow
from surveyapp.questionnaires import parse_questionnaire
from surveyapp.services.catalog import sync_questionnaire
from surveyapp.services.invitations import generate_codes
from surveyapp.services.waves import create_wave
from tests.web import test_browser
from tests.web.factories import live_server, make_wave, questionnaire_for
from tests.web.test_browser import answer_citizen_questionnaire, ordered_items, reveal
from tests.web.test_browser_scripts import csp_complaints

browser = test_browser.browser  # the module-scoped Chromium fixture, shared
AXE = Path(__file__).parent / "axe" / "axe.min.js"
PHONES = {"360": {"width": 360, "height": 780}, "390": {"width": 390, "height": 844}}
PAGE_LABEL = {"zh": "第{page}页，共{total}页", "en": "Page {page} of {total}"}
NEXT = {"zh": "下一页", "en": "Next"}
BACK = {"zh": "上一页", "en": "Back"}
STORAGE_KEY = "surveyapp:answers:{wave}"


@pytest.fixture(autouse=True)
def quiet_server(caplog):
    caplog.set_level(logging.WARNING, logger="werkzeug")


def form_url(base: str, wave, lang: str) -> str:
    return f"{base}/s/{wave.id}" + ("?lang=en" if lang == "en" else "")


def saved_answers(page, wave) -> dict | None:
    text = page.evaluate("key => window.localStorage.getItem(key)",
                         STORAGE_KEY.format(wave=wave.id))
    return None if text is None else json.loads(text)


def progress(page) -> str:
    return page.locator("#progress-label").inner_text()


def scale_rows(page) -> list[list[dict]]:
    """The boxes of each 1-10 (0-10) scale shown: one list of bounding boxes per question."""
    rows = []
    for scale in page.locator(".choices-scale").all():
        if scale.is_visible():
            rows.append([label.bounding_box() for label in
                         scale.locator(".choice:not(.choice-aside) label").all()])
    return rows


def assert_scales_fit_one_row(page, width: int) -> None:
    rows = scale_rows(page)
    assert rows
    for boxes in rows:
        assert len({round(box["y"]) for box in boxes}) == 1  # one row: the anchors sit at its ends
        assert boxes[0]["x"] >= 0 and boxes[-1]["x"] + boxes[-1]["width"] <= width
        assert min(box["width"] for box in boxes) >= 24  # WCAG 2.2 target size


@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_resident_pages_through_the_form(browser, app, lang, width):
    wave = make_wave(districts=["310109", "310110"])
    questionnaire = questionnaire_for(wave)
    street_label = next(d for d in questionnaire.demographics if d.id == "street").text.get(lang)
    total = len(questionnaire.dimensions) + 2  # where you live, each dimension, the rest

    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES[width])
        complaints = csp_complaints(page)
        page.goto(form_url(base, wave, lang))
        first_page = progress(page)
        all_streets = page.get_by_label(street_label).locator("option").count()
        page.locator("#district").select_option("310109")
        streets = page.get_by_label(street_label).locator("option").evaluate_all(
            "options => options.map(option => option.value)")
        page.get_by_label(street_label).select_option("310109002")
        page.get_by_role("button", name=NEXT[lang]).click()
        second_page = progress(page)
        district_hidden = not page.locator("#district").is_visible()
        assert_scales_fit_one_row(page, PHONES[width]["width"])
        first = ordered_items(questionnaire)[0]
        page.get_by_role("group", name=f"1. {first.text.get(lang)}", exact=True) \
            .get_by_label(f"7 {questionnaire.scale_of(first.id).points[6].label.get(lang)}").check()
        page.get_by_role("button", name=BACK[lang]).click()
        street_kept = page.get_by_label(street_label).input_value()
        page.get_by_role("button", name=NEXT[lang]).click()
        answer_kept = page.locator(f"input[name='q_{first.id}']:checked").get_attribute("value")
        page.get_by_role("button", name=NEXT[lang]).click()
        page.go_back()  # the browser's own Back: the page before, the answers kept
        after_browser_back = (progress(page), page.locator(
            f"input[name='q_{first.id}']:checked").get_attribute("value"))
        page.get_by_role("button", name=BACK[lang]).click()
        answer_citizen_questionnaire(page, questionnaire, lang)
        page.wait_for_url(f"**/s/{wave.id}/thanks**")
        forgotten = saved_answers(page, wave)
        page.close()

    assert first_page == PAGE_LABEL[lang].format(page=1, total=total)
    assert second_page == PAGE_LABEL[lang].format(page=2, total=total)
    assert district_hidden
    assert streets[0] == "" and all(code.startswith("310109") for code in streets[1:])
    assert 1 < len(streets) < all_streets  # Huangpu's streets are gone once Hongkou is chosen
    assert (street_kept, answer_kept) == ("310109002", "7")
    assert after_browser_back == (second_page, "7")
    assert forgotten is None  # the thank-you page cleared what the browser kept
    stored = db.session.scalars(sa.select(Response)).one()
    assert (stored.language, stored.street_code) == (lang, "310109002")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == len(
        questionnaire.items)
    assert complaints == []


def test_without_javascript_the_form_is_one_page_with_streets_grouped_by_district(browser, app):
    wave = make_wave(districts=["310109", "310110"])
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES["360"], java_script_enabled=False)
        page.goto(form_url(base, wave, "zh"))
        pages_shown = [p.is_visible() for p in page.locator(".form-page").all()]
        paging = [page.locator(f"#{name}").is_visible()
                  for name in ("form-progress", "page-back", "page-next", "resume-notice")]
        submit = page.locator("#submit-answers").is_visible()
        groups = page.locator("#street optgroup").evaluate_all(
            "groups => groups.map(g => [g.label, g.querySelectorAll('option').length,"
            " [...g.querySelectorAll('option')].every(o => o.value.startsWith("
            "g.dataset.district))])")
        page.close()
    assert pages_shown == [True] * 5 and paging == [False] * 4 and submit
    assert [label for label, _count, _own in groups] == ["虹口区", "杨浦区"]
    assert all(count > 1 and own for _label, count, own in groups)


def test_a_resident_who_comes_back_continues_where_they_left_off(browser, app):
    wave = make_wave()
    questionnaire = questionnaire_for(wave)
    first, second = ordered_items(questionnaire)[:2]

    with live_server(app) as base:
        context = browser.new_context(viewport=PHONES["390"])
        page = context.new_page()
        page.goto(form_url(base, wave, "zh"))
        notice_at_first = page.locator("#resume-notice").is_visible()
        page.locator("#district").select_option("310109")
        page.locator("#street").select_option("310109002")
        page.get_by_role("button", name=NEXT["zh"]).click()
        page.locator(f"label[for='q_{first.id}-3']").click()  # 4
        page.close()

        page = context.new_page()
        page.goto(form_url(base, wave, "zh"))
        notice = page.locator("#resume-notice").inner_text()
        back_at = progress(page)
        kept = (page.locator("#street").input_value(),
                page.locator(f"input[name='q_{first.id}']:checked").get_attribute("value"))
        reveal(page, page.locator(f"label[for='q_{second.id}-0']")).click()
        saved = saved_answers(page, wave)
        page.locator("#resume-forget").click()
        cleared = (page.locator("#street").input_value(), progress(page),
                   page.locator("input[type=radio]:checked").count())
        page.close()
        context.close()

    assert not notice_at_first
    assert "从上次离开的地方继续" in notice
    assert back_at == "第2页，共5页"
    assert kept == ("310109002", "4")
    assert saved["answers"] == {"district": "310109", "street": "310109002",
                                f"q_{first.id}": "4", f"q_{second.id}": "1"}
    assert cleared == ("", "第1页，共5页", 0)


def test_switching_language_on_a_page_comes_back_to_that_page(browser, app):
    """The language button posts the whole form: the server re-shows it in English with the
    answers, and the script opens the page the resident was on (no "welcome back" notice:
    nothing had to be filled in from the browser)."""
    wave = make_wave()
    first = ordered_items(questionnaire_for(wave))[0]
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES["360"])
        page.goto(form_url(base, wave, "zh"))
        page.locator("#district").select_option("310109")
        page.get_by_role("button", name=NEXT["zh"]).click()
        page.locator(f"label[for='q_{first.id}-8']").click()  # 9
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        shown = (progress(page), page.locator(f"input[name='q_{first.id}']:checked").get_attribute(
            "value"), page.locator("#resume-notice").is_visible())
        page.close()
    assert shown == ("Page 2 of 5", "9", False)


def test_an_error_link_opens_the_page_of_its_question(browser, app):
    """Submitted with answers missing: the form comes back on the page of the first error, and
    the summary's link to a later question opens that question's page."""
    wave = make_wave()
    sex = next(d for d in questionnaire_for(wave).demographics if d.id == "sex")
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES["390"])
        page.goto(form_url(base, wave, "en"))
        page.locator("#district").select_option("310109")
        page.locator("#street").select_option("310109002")
        reveal(page, page.locator("#submit-answers")).click()
        page.wait_for_load_state()
        first_shown = progress(page)
        page.locator(".error-summary a", has_text=sex.text.en).click()
        shown = (progress(page), page.get_by_role("group", name=sex.text.en).is_visible())
        page.close()
    assert first_shown == "Page 2 of 5"
    assert shown == ("Page 5 of 5", True)


def test_the_browser_never_keeps_the_invitation_code_or_the_tokens(browser, app):
    wave = make_wave(mode="invitation", districts=["310109"])
    code = generate_codes(wave, "310109", 1)[0]
    db.session.commit()

    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES["360"])
        page.goto(f"{base}/s/{wave.id}#code={code}")
        page.get_by_role("button", name="继续").click()
        page.wait_for_load_state()
        page.locator("#street").select_option("310109002")
        hidden_values = page.locator("input[type=hidden]").evaluate_all(
            "fields => fields.map(field => field.value)")
        everything = page.evaluate("() => JSON.stringify(Object.assign({}, window.localStorage))")
        page.close()

    assert "310109002" in everything
    assert code not in everything and code.replace("-", "") not in everything
    assert all(value not in everything for value in hidden_values if value)


def test_a_kiosk_keeps_no_answers_in_the_browser(browser, app):
    wave = make_wave(kiosk=True)
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES["390"])
        page.goto(form_url(base, wave, "en"))
        page.locator("#district").select_option("310109")
        page.get_by_role("button", name=NEXT["en"]).click()
        paged = progress(page)
        stored = page.evaluate("() => window.localStorage.length")
        page.close()
    assert paged == "Page 2 of 5"
    assert stored == 0


def eleven_point_wave():
    """The citizen questionnaire with its satisfaction scale running 0-10 (11 boxes)."""
    directory = Path(current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    text = (directory / "citizen.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "2024.1"', 'version: "2024.1-zero"', 1).replace(
        "  - id: sat10\n    points:\n",
        "  - id: sat10\n    points:\n      - {value: 0, label: {zh: 极不满意, en: Extremely "
        "dissatisfied}}\n", 1)
    version = sync_questionnaire(parse_questionnaire(text, "citizen-zero.yaml"), text)
    wave = create_wave("2024z", version, ["310109"], utcnow() - timedelta(days=1),
                       utcnow() + timedelta(days=1), "open", "district", "adjust")
    db.session.commit()
    return wave


@pytest.mark.parametrize("width", PHONES)
def test_a_0_to_10_scale_fits_one_row(browser, app, width):
    make_wave()  # the shipped questionnaires and geography
    wave = eleven_point_wave()
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES[width])
        page.goto(form_url(base, wave, "en"))
        page.locator("#district").select_option("310109")
        page.locator("#street").select_option("310109002")
        page.get_by_role("button", name=NEXT["en"]).click()
        boxes = scale_rows(page)[0]
        assert_scales_fit_one_row(page, PHONES[width]["width"])
        reveal(page, page.locator("#submit-answers")).click()  # unanswered: beside a red bar
        page.wait_for_load_state()
        shown_with_errors = progress(page)
        assert_scales_fit_one_row(page, PHONES[width]["width"])
        page.close()
    assert shown_with_errors == "Page 2 of 5"
    assert len(boxes) == 11


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page as shown, as "rule: first failing element" lines."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("() => axe.run(document).then(result => result.violations)")
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def check_the_form(page, found: dict[str, list[str]], questionnaire, lang: str) -> None:
    """axe on each page of the form, on the form re-shown with errors, on the thank-you page
    and on the "already received" page that opening the form again then shows."""
    address, number = page.url, 1
    found["form page 1"] = axe_violations(page)
    while page.locator("#page-next").is_visible():
        page.locator("#page-next").click()
        number += 1
        found[f"form page {number}"] = axe_violations(page)
    page.locator("#submit-answers").click()  # nothing answered: the errors are listed
    page.wait_for_load_state()
    found["form with errors"] = axe_violations(page)
    answer_citizen_questionnaire(page, questionnaire, lang)
    page.wait_for_url("**/thanks**")
    found["thanks"] = axe_violations(page)
    page.goto(address)
    found["already received"] = axe_violations(page)


def check_the_code_page(page, found: dict[str, list[str]]) -> None:
    found["code entry"] = axe_violations(page)
    page.locator("#code").fill("WRONG-CODE1")
    page.locator("button.button").click()
    page.wait_for_load_state()
    found["code entry, wrong code"] = axe_violations(page)


@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_axe_finds_nothing_on_any_resident_page(browser, app, lang, width):
    suffix = "?lang=en" if lang == "en" else ""
    open_wave = make_wave(districts=["310109", "310110"])
    invitation = make_wave("2023", mode="invitation", districts=["310109"])
    closed = make_wave("2022", open=False)
    later = make_wave("2025", opens_at=utcnow() + timedelta(days=3),
                      closes_at=utcnow() + timedelta(days=30))
    found: dict[str, list[str]] = {}
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONES[width])
        for name, path in [("landing", "/"), ("closed", f"/s/{closed.id}"),
                           ("not open yet", f"/s/{later.id}"), ("unknown", "/s/999999")]:
            page.goto(base + path + suffix)
            found[name] = axe_violations(page)
        page.goto(f"{base}/s/{invitation.id}{suffix}")
        check_the_code_page(page, found)
        page.goto(f"{base}/s/{open_wave.id}{suffix}")
        check_the_form(page, found, questionnaire_for(open_wave), lang)
        page.close()
    assert len(found) == 14
    assert {name: problems for name, problems in found.items() if problems} == {}
