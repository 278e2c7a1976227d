"""The resident's flow: landing page, form in both languages, storage, thank-you page."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import Answer, FormToken, Response, as_utc, utcnow
from tests.web.factories import form_post, make_wave, questionnaire_for, stored_counts


def test_landing_page_lists_only_open_waves_in_the_chosen_language(client):
    make_wave("2024", districts=["310109", "310110"])
    make_wave("2023", open=False)
    make_wave("2025", opens_at=utcnow() + timedelta(days=1), closes_at=utcnow() + timedelta(days=9))

    chinese = client.get("/").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)

    assert "市民质量满意度测评" in chinese and "虹口区、杨浦区" in chinese
    assert "2023" not in chinese and "2025" not in chinese
    assert "Citizen Quality Satisfaction Survey" in english and "Hongkou, Yangpu" in english


def test_form_is_chinese_by_default_with_a_switch_to_english(client):
    wave = make_wave()

    page = client.get(f"/s/{wave.id}").get_data(as_text=True)

    assert '<html lang="zh-CN">' in page
    assert "市民质量满意度测评" in page and "提交问卷" in page
    assert 'name="switch_lang" value="en"' in page  # a button of the form: answers travel
    english = client.get(f"/s/{wave.id}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Submit answers" in english
    assert 'name="switch_lang" value="zh"' in english


def test_form_groups_items_by_dimension_in_labelled_fieldsets(client):
    wave = make_wave()
    questionnaire = questionnaire_for(wave)

    page = client.get(f"/s/{wave.id}?lang=en").get_data(as_text=True)

    for dimension in questionnaire.dimensions:
        assert f'<legend><span class="section-title">{dimension.name.en}</span></legend>' in page
    for item in questionnaire.items:
        assert f'<fieldset class="question" id="q_{item.id}">' in page
        assert f'<label for="q_{item.id}-0">' in page
    assert page.count('type="radio"') == len(questionnaire.items) * 11 + 2 + 4 + 4
    assert 'maxlength="500"' in page
    assert "Nanjingdonglu" not in page  # only the wave's districts' streets are offered
    assert "Ouyanglu" in page


def test_valid_response_is_stored_whole_with_its_metadata(client):
    wave = make_wave()
    data = form_post(client, wave, lang="en", seed=3)
    before = utcnow()

    response = client.post(f"/s/{wave.id}?lang=en", data=data)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{wave.id}/thanks?lang=en"
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your answers have been received" in thanks
    stored = db.session.scalars(sa.select(Response)).one()
    questionnaire = questionnaire_for(wave)
    assert stored.wave_id == wave.id
    assert stored.questionnaire_hash == questionnaire.content_hash
    assert (stored.district_code, stored.street_code) == (data["district"], data["street"])
    assert (stored.sex, stored.age_group) == (data["sex"], data["age_group"])
    assert (stored.language, stored.channel) == ("en", "web")
    assert before - timedelta(seconds=1) <= as_utc(stored.submitted_at) <= utcnow()
    assert 0 <= stored.duration_seconds < 60
    assert len(stored.id) == 36
    answers = {a.item_id: a.value for a in db.session.scalars(sa.select(Answer))}
    assert answers == {item.id: int(data[f"q_{item.id}"]) for item in questionnaire.items}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FormToken)) == 1


def test_dont_know_is_stored_as_the_scale_code_and_optional_fields_may_be_empty(client):
    wave = make_wave()
    data = form_post(client, wave, q_p_drugs="99", residence_years=None, comment="")

    assert client.post(f"/s/{wave.id}", data=data).status_code == 303

    stored = db.session.scalars(sa.select(Response)).one()
    assert stored.residence_years is None and stored.comment is None
    assert db.session.get(Answer, (stored.id, "p_drugs")).value == 99


def test_comment_is_stored_as_text_and_escaped_when_shown(client):
    wave = make_wave()
    data = form_post(client, wave, comment="<b>=1+1</b>", q_p_food="11")

    page = client.post(f"/s/{wave.id}", data=data).get_data(as_text=True)

    assert "&lt;b&gt;=1+1&lt;/b&gt;" in page and "<b>=1+1</b>" not in page


def test_unknown_wave_is_404(client):
    page = client.get("/s/999")
    assert page.status_code == 404
    assert "此地址没有问卷" in page.get_data(as_text=True)


def test_wave_not_yet_open_is_403_with_the_opening_date(client):
    opens = utcnow() + timedelta(days=3)
    wave = make_wave(opens_at=opens, closes_at=opens + timedelta(days=30))

    page = client.get(f"/s/{wave.id}?lang=en")

    assert page.status_code == 403
    assert "This survey opens on" in page.get_data(as_text=True)
    assert str(opens.year) in page.get_data(as_text=True)


def test_closed_wave_is_410(client):
    wave = make_wave(open=False)

    page = client.get(f"/s/{wave.id}")

    assert page.status_code == 410
    assert "本调查已于" in page.get_data(as_text=True)


def test_unrouted_pages_get_a_translated_error_page(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True)
    english = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "Page not found" in english and "There is nothing at this address" in english
