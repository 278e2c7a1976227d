"""The form's language button: the same answers in the other language, nothing checked or stored."""
from __future__ import annotations

import re

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import FormToken, InvitationCode, Response
from surveyapp.services.invitations import generate_codes
from tests.web.factories import form_post, make_wave, questionnaire_for, stored_counts


def checked_values(page: str) -> dict[str, str]:
    """The radio buttons shown as chosen, by field name."""
    return dict(re.findall(r'<input type="radio" id="[^"]+" name="([^"]+)" value="([^"]*)" checked>',
                           page))


def selected_values(page: str) -> set[str]:
    return set(re.findall(r'<option value="([^"]+)" selected>', page))


def test_switching_keeps_the_answers_and_stores_nothing_and_the_ticket_still_works(client):
    wave = make_wave()
    data = form_post(client, wave, lang="zh", seed=4, comment="楼道灯坏了")

    switched = client.post(f"/s/{wave.id}?lang=zh", data={**data, "switch_lang": "en"})

    page = switched.get_data(as_text=True)
    assert switched.status_code == 200
    assert '<html lang="en">' in page and "Submit answers" in page
    assert 'name="switch_lang" value="zh"' in page  # and back again
    assert f'action="/s/{wave.id}?lang=en"' in page
    radios = {name: value for name, value in data.items() if name.startswith("q_")}
    radios.update({name: data[name] for name in ("sex", "age_group", "residence_years")})
    assert checked_values(page) == radios
    assert {data["district"], data["street"]} <= selected_values(page)
    assert ">楼道灯坏了</textarea>" in page
    assert f'value="{data["ticket"]}"' in page  # the same one-time ticket travels on
    assert stored_counts() == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FormToken)) == 0

    submitted = client.post(f"/s/{wave.id}?lang=en", data=data)

    assert submitted.status_code == 303
    assert db.session.scalars(sa.select(Response)).one().language == "en"


def test_switching_after_a_failed_submit_keeps_the_answers_without_checking_them(client):
    wave = make_wave()
    item = questionnaire_for(wave).items[0].id
    data = form_post(client, wave, lang="en", seed=5, **{f"q_{item}": None})
    assert client.post(f"/s/{wave.id}?lang=en", data=data).status_code == 422

    switched = client.post(f"/s/{wave.id}?lang=en", data={**data, "switch_lang": "zh"})

    page = switched.get_data(as_text=True)
    assert switched.status_code == 200 and '<html lang="zh-CN">' in page
    assert "error-summary" not in page
    assert checked_values(page) == {n: v for n, v in data.items()
                                    if n.startswith("q_") or n in ("sex", "age_group", "residence_years")}
    assert stored_counts() == (0, 0)


def test_the_real_submit_button_comes_before_the_language_button(client):
    """Enter in a radio button submits with the form's first submit button: never the switch."""
    wave = make_wave()
    page = client.get(f"/s/{wave.id}").get_data(as_text=True)
    form = page[page.index("<form"):]
    first = re.search(r"<button[^>]*>", form).group(0)
    assert 'type="submit"' in first and "switch_lang" not in first
    assert 'name="switch_lang" value="en"' in form and "formnovalidate" in form


def test_switching_an_invitation_form_keeps_the_code_unused(client):
    wave = make_wave(mode="invitation", districts=["310109"])
    code = generate_codes(wave, "310109", 1)[0]
    db.session.commit()
    data = form_post(client, wave, code=code)

    switched = client.post(f"/s/{wave.id}?lang=zh", data={**data, "switch_lang": "en"})

    assert switched.status_code == 200
    assert f'value="{data["code"]}"' in switched.get_data(as_text=True)
    assert db.session.scalars(sa.select(InvitationCode)).one().used_at is None
    assert client.post(f"/s/{wave.id}?lang=en", data=data).status_code == 303
