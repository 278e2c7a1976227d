"""One response per resident (issue 9 item 3): Back, refresh, a second tab or a resent POST
after a successful submit store nothing more; a kiosk wave offers the next resident a new form.

The test client keeps cookies like a browser: one client is one browser.
"""
from __future__ import annotations

import time

import pytest
from flask import g

from surveyapp.blueprints.survey_done import COOKIE
from surveyapp.services.invitations import generate_codes
from surveyapp.services.waves import WaveError, create_wave, latest_version
from surveyapp.extensions import db
from surveyapp.models.survey import utcnow
from tests.web.factories import (
    form_fields,
    form_post,
    make_wave,
    stored_counts,
    sync_shipped,
    valid_answers,
)


def submit(client, wave, seed=0, lang="zh"):
    data = form_post(client, wave, seed=seed, lang=lang)
    return client.post(f"/s/{wave.id}?lang={lang}", data=data)


def test_the_form_page_is_never_cached(client):
    wave = make_wave()
    assert client.get(f"/s/{wave.id}").headers["Cache-Control"] == "no-store"
    bad = client.post(f"/s/{wave.id}", data={**form_post(client, wave), "q_p_food": "77"})
    assert bad.status_code == 422 and bad.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("lang, text", [("zh", "您对这份问卷的回答已经收到"),
                                        ("en", "Your answers to this survey have already been")])
def test_after_a_submit_the_form_page_says_already_received(client, lang, text):
    wave = make_wave()
    assert submit(client, wave, lang=lang).status_code == 303

    back = client.get(f"/s/{wave.id}?lang={lang}")  # Back, refresh, or the link again

    page = back.get_data(as_text=True)
    assert back.status_code == 200 and text in page
    assert 'name="ticket"' not in page and "new=1" not in page  # no form, no new response
    assert client.get(f"/s/{wave.id}?new=1").get_data(as_text=True).count('name="ticket"') == 0
    assert stored_counts()[0] == 1


def test_a_second_tab_opened_before_the_submit_stores_nothing(client):
    wave = make_wave()
    first, second = form_post(client, wave, seed=1), form_post(client, wave, seed=2)

    assert client.post(f"/s/{wave.id}", data=first).status_code == 303
    refused = client.post(f"/s/{wave.id}", data=second)

    assert refused.status_code == 409
    assert "您对这份问卷的回答已经收到" in refused.get_data(as_text=True)
    assert stored_counts()[0] == 1


def test_another_browser_answers_on_its_own(client, app):
    wave = make_wave()
    assert submit(client, wave).status_code == 303
    # The fixture's requests share one app context, where Flask-WTF keeps the last CSRF token
    # made (a server gives each request its own): forget it, as a new browser's request would.
    g.pop("csrf_token", None)
    assert submit(app.test_client(), wave, seed=5).status_code == 303
    assert stored_counts()[0] == 2


def test_a_forged_cookie_counts_for_nothing(client):
    wave = make_wave()
    client.set_cookie(COOKIE, "eyIxIjoxfQ.forged")
    assert 'name="ticket"' in client.get(f"/s/{wave.id}").get_data(as_text=True)
    assert submit(client, wave).status_code == 303


def test_a_kiosk_offers_the_next_resident_a_new_response(client):
    wave = make_wave(kiosk=True)
    stale = form_post(client, wave, seed=9)  # a second tab, opened before the first submit
    assert submit(client, wave, seed=1).status_code == 303
    thanks = client.get(f"/s/{wave.id}/thanks").get_data(as_text=True)
    assert f"/s/{wave.id}?lang=zh&amp;new=1" in thanks
    assert "开始新的答卷" in client.get(f"/s/{wave.id}").get_data(as_text=True)

    time.sleep(1.05)  # tickets carry whole seconds: the next resident comes later
    page = client.get(f"/s/{wave.id}?new=1").get_data(as_text=True)
    assert 'name="ticket"' in page
    data = {**form_fields(page), **valid_answers(wave, seed=2)}
    assert client.post(f"/s/{wave.id}", data=data).status_code == 303

    assert stored_counts()[0] == 2
    stale_post = client.post(f"/s/{wave.id}", data=stale)
    assert stale_post.status_code == 409 and stored_counts()[0] == 2


def test_invitation_codes_not_the_cookie_limit_an_invitation_wave(client):
    """A household sharing a phone, each with their own code: two responses."""
    wave = make_wave(mode="invitation")
    codes = generate_codes(wave, "310109", 2)
    db.session.commit()
    for number, code in enumerate(codes):
        data = form_post(client, wave, seed=number, code=code)
        assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    assert stored_counts()[0] == 2


def test_only_an_open_link_wave_can_be_a_kiosk(app):
    version = sync_shipped()["citizen"]
    with pytest.raises(WaveError, match="kiosk"):
        create_wave("k", version, ["310109"], utcnow(), utcnow().replace(year=2099),
                    mode="invitation", kiosk=True)
    assert latest_version("citizen") is not None
