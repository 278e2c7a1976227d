"""Invitation mode: one-time codes per wave and district (and street), stored only as hashes."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import InvitationCode, Response
from surveyapp.services.invitations import InvitationError, generate_codes
from tests.web.factories import form_fields, form_post, make_wave, stored_counts


@pytest.fixture
def wave(app):
    return make_wave(mode="invitation", districts=["310109", "310110"])


def codes_for(wave, district="310109", count=2, street=None):
    codes = generate_codes(wave, district, count, street_code=street)
    db.session.commit()
    return codes


def test_only_keyed_hashes_of_codes_are_stored(wave):
    codes = codes_for(wave, count=5)

    stored = db.session.scalars(sa.select(InvitationCode.code_hash)).all()
    assert len(set(codes)) == len(stored) == 5
    for code in codes:
        assert all(code.replace("-", "") not in value for value in stored)
        assert len(code) == 11 and code[5] == "-"


def test_without_a_code_the_resident_is_asked_for_one(client, wave):
    assert "凭邀请码参与" in client.get("/").get_data(as_text=True)
    page = client.get(f"/s/{wave.id}")
    assert page.status_code == 200
    assert 'name="code"' in page.get_data(as_text=True)
    assert "邀请码" in page.get_data(as_text=True)


def test_a_post_without_a_code_stores_nothing(client, wave):
    data = form_post(client, wave, code=codes_for(wave)[0])
    del data["code"]

    response = client.post(f"/s/{wave.id}", data=data)

    assert response.status_code == 403
    assert "本调查需要邀请函上印的邀请码" in response.get_data(as_text=True)
    assert stored_counts() == (0, 0)


def enter_code(client, wave, code: str, lang: str = "zh"):
    """Type ``code`` on the code page and press Continue (a POST, as the page's form does)."""
    entry = client.get(f"/s/{wave.id}", query_string={"lang": lang})
    return client.post(f"/s/{wave.id}/code", query_string={"lang": lang},
                       data={**form_fields(entry.get_data(as_text=True)), "code": code})


def test_unknown_code_is_refused_with_a_clear_message(client, wave):
    codes_for(wave)
    page = enter_code(client, wave, "ZZZZZ-ZZZZZ", lang="en")
    assert page.status_code == 403
    assert "This code is not valid for this survey" in page.get_data(as_text=True)


def test_a_code_admits_one_response_in_its_district(client, wave):
    code = codes_for(wave, district="310110")[0]
    typed = code.lower().replace("-", " ")  # residents type codes loosely

    data = form_post(client, wave, code=typed, district="310110", street="310110001")
    page = enter_code(client, wave, typed).get_data(as_text=True)
    assert "虹口区" not in page  # the code fixes the district: Yangpu only
    response = client.post(f"/s/{wave.id}", data=data)

    assert response.status_code == 303
    stored = db.session.scalars(sa.select(Response)).one()
    assert (stored.channel, stored.district_code) == ("invitation", "310110")
    used = enter_code(client, wave, code)
    assert used.status_code == 409
    assert "此邀请码已被使用" in used.get_data(as_text=True)


def test_a_second_form_with_a_spent_code_stores_nothing(client, wave):
    code = codes_for(wave)[0]
    first = form_post(client, wave, code=code, seed=1)
    second = form_post(client, wave, code=code, seed=2)

    assert client.post(f"/s/{wave.id}", data=first).status_code == 303
    assert client.post(f"/s/{wave.id}", data=second).status_code == 409
    assert stored_counts()[0] == 1


def test_a_code_cannot_answer_for_another_district(client, wave):
    code = codes_for(wave, district="310109")[0]
    data = form_post(client, wave, code=code, district="310110", street="310110001")

    assert client.post(f"/s/{wave.id}", data=data).status_code == 422
    assert stored_counts() == (0, 0)
    assert db.session.scalar(sa.select(InvitationCode.used_at)) is None


def test_street_codes_restrict_the_street(client, wave):
    code = codes_for(wave, district="310109", street="310109002")[0]
    data = form_post(client, wave, code=code, street="310109001")

    assert client.post(f"/s/{wave.id}", data=data).status_code == 422
    data["street"] = "310109002"
    assert client.post(f"/s/{wave.id}", data=data).status_code == 303


@pytest.mark.parametrize(
    "district, street, count, message",
    [
        ("310101", None, 1, "district: 310101 is not covered"),
        ("310109", "310110001", 1, "street: 310110001 is not a street of district 310109"),
        ("310109", None, 0, "count:"),
    ],
)
def test_generating_codes_checks_its_arguments(wave, district, street, count, message):
    with pytest.raises(InvitationError, match=message):
        generate_codes(wave, district, count, street_code=street)


def test_open_waves_take_no_codes(app):
    wave = make_wave(mode="open")
    with pytest.raises(InvitationError, match="not by invitation"):
        generate_codes(wave, "310109", 1)


def test_the_language_switch_keeps_the_code(client, wave):
    code = codes_for(wave)[0]
    page = enter_code(client, wave, code).get_data(as_text=True)
    assert 'name="switch_lang" value="en"' in page  # posts the form, and the code with it
    assert re.search(rf'<input [^>]*name="code" type="hidden" value="{code}"', page)
