"""Every kind of bad input gets a 4xx with a clear message and stores nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import FormToken, utcnow
from tests.web.factories import form_fields, form_post, make_wave, stored_counts


def post(client, wave, data, lang="zh"):
    return client.post(f"/s/{wave.id}", query_string={"lang": lang}, data=data)


def with_(**overrides):
    """A case that changes (or with None removes) fields of a valid post."""
    def run(client, wave, data):
        for name, value in overrides.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return post(client, wave, data)
    return run


def closed_meanwhile(client, wave, data):
    wave.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return post(client, wave, data)


def repeated_answer(client, wave, data):
    data["q_p_food"] = ["3", "9"]
    return post(client, wave, data)


def oversized_body(client, wave, data):
    data["comment"] = "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 1)
    return post(client, wave, data)


def ticket_of_other_wave(client, wave, data):
    other = make_wave("2024b")
    data["ticket"] = form_post(client, other)["ticket"]
    return post(client, wave, data)


CASES = {
    # (case, expected status, a word of the message that must appear)
    "required answer missing": (with_(q_p_food=None), 422, "请在 1 到 10 分中选择一项"),
    "answer out of range": (with_(q_p_food="11"), 422, "请在 1 到 10 分中选择一项"),
    "answer zero": (with_(q_p_food="0"), 422, "请在 1 到 10 分中选择一项"),
    "answer malformed": (with_(q_p_food="ten"), 422, "请在 1 到 10 分中选择一项"),
    "answer empty": (with_(q_h_roads=""), 422, "请在 1 到 10 分中选择一项"),
    "answer repeated": (repeated_answer, 400, "q_p_food"),
    "unknown item": (with_(q_p_bogus="5"), 400, "q_p_bogus"),
    "unknown field": (with_(ip_address="1.2.3.4"), 400, "ip_address"),
    "district unknown": (with_(district="999999"), 422, "请从列表中选择您居住的区"),
    "district not in wave": (with_(district="310101"), 422, "请从列表中选择您居住的区"),
    "district missing": (with_(district=None), 422, "请从列表中选择您居住的区"),
    "street of another district": (with_(street="310101001"), 422, "请选择您所选区内的街道"),
    "street unknown": (with_(street="310109999"), 422, "请选择您所选区内的街道"),
    "sex not a choice": (with_(sex="other"), 422, "请选择所列选项之一"),
    "sex missing": (with_(sex=None), 422, "请选择所列选项之一"),
    "age group malformed": (with_(age_group="<script>"), 422, "请选择所列选项之一"),
    "comment too long": (with_(comment="长" * 501), 422, "请缩短到 500 字以内"),
    "body too large": (oversized_body, 413, "内容过长"),
    "csrf token missing": (with_(csrf_token=None), 400, "此问卷在提交前已过期"),
    "csrf token bad": (with_(csrf_token="forged"), 400, "您的回答已保留在下方"),
    "form ticket missing": (with_(ticket=None), 400, "无法验证此问卷"),
    "form ticket forged": (with_(ticket="eyJ3IjoxfQ.forged.sig"), 400, "无法验证此问卷"),
    "form ticket of another wave": (ticket_of_other_wave, 400, "无法验证此问卷"),
    "wave closed after display": (closed_meanwhile, 410, "已于"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_and_stores_nothing(client, name):
    case, status, words = CASES[name]
    wave = make_wave()
    data = form_post(client, wave)
    before = stored_counts()

    response = case(client, wave, data)

    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert stored_counts() == before == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FormToken)) == 0


def test_validation_errors_link_to_each_field_and_keep_answers(client):
    wave = make_wave()
    data = form_post(client, wave, q_p_food=None, street="310101001", comment="保留我的意见")

    page = post(client, wave, data).get_data(as_text=True)

    assert 'href="#street"' in page
    assert 'href="#q_p_food"' in page
    assert '<fieldset class="question has-error" id="q_p_food"' in page
    assert "保留我的意见" in page
    kept = data["q_p_goods"]
    assert f'name="q_p_goods" value="{kept}" checked' in page


def test_validation_errors_in_english(client):
    wave = make_wave()
    data = form_post(client, wave, lang="en", q_p_food="42")

    response = post(client, wave, data, lang="en")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Question 1: Please choose one of the answers 1 to 10" in page
    assert "Don&#39;t know / not applicable" in page
    assert stored_counts() == (0, 0)


def test_resent_post_stores_one_response(client):
    wave = make_wave()
    data = form_post(client, wave)

    first = post(client, wave, data)
    second = post(client, wave, data)

    assert first.status_code == 303
    assert second.status_code == 409
    assert "您对这份问卷的回答已经收到" in second.get_data(as_text=True)
    assert stored_counts()[0] == 1


def test_expired_security_token_keeps_the_answers_for_a_second_send(client):
    """A form left open past the CSRF time limit comes back filled in; sent again, it counts,
    and the time taken still runs from the first display."""
    wave = make_wave()
    data = form_post(client, wave, comment="保留我的意见")
    data["csrf_token"] = "expired-or-forged"

    refused = post(client, wave, data)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and stored_counts() == (0, 0)
    assert "为保障安全，此问卷在提交前已过期" in page and "保留我的意见" in page
    assert f'name="q_p_goods" value="{data["q_p_goods"]}" checked' in page
    fields = form_fields(page)
    assert fields["ticket"] == data["ticket"] and fields["csrf_token"] != data["csrf_token"]
    data["csrf_token"] = fields["csrf_token"]
    assert post(client, wave, data).status_code == 303
    assert stored_counts()[0] == 1


def test_failed_security_check_outside_the_survey_form_asks_to_reload(client):
    response = client.post("/auth/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "请刷新页面" in response.get_data(as_text=True)
