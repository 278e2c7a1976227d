"""The optional proof of work of open waves: off by default; when on, a response is stored only
with a solution of the challenge issued for that very form, and the page says what to do
without JavaScript."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import time

import pytest

from surveyapp.services import proof_of_work
from tests.web.factories import form_fields, form_post, make_wave, stored_counts, valid_answers


@pytest.fixture
def pow_on(app):
    app.config.update(SURVEYAPP_POW_OPEN_WAVES=True, SURVEYAPP_POW_MAX_NUMBER=2000)
    yield
    app.config.update(SURVEYAPP_POW_OPEN_WAVES=False, SURVEYAPP_POW_MAX_NUMBER=50000)


def challenge_in(html: str) -> dict:
    return json.loads(re.search(r"data-challenge='([^']+)'", html).group(1))


def solve(challenge: dict, number: int | None = None, **changes) -> str:
    """What proof-of-work.js posts: the number found by trying each in turn."""
    if number is None:
        number = next(n for n in range(challenge["maxnumber"] + 1)
                      if hashlib.sha256(f"{challenge['salt']}{n}".encode()).hexdigest()
                      == challenge["challenge"])
    solution = {**{k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")},
                "number": number, **changes}
    return base64.b64encode(json.dumps(solution).encode()).decode()


def test_off_by_default_the_form_has_no_challenge(app, client):
    wave = make_wave()
    page = client.get(f"/s/{wave.id}").get_data(as_text=True)
    assert "proof-of-work" not in page
    assert client.post(f"/s/{wave.id}", data=form_post(client, wave)).status_code == 303


def test_a_solved_challenge_lets_the_response_in(client, pow_on):
    wave = make_wave()
    page = client.get(f"/s/{wave.id}").get_data(as_text=True)
    assert 'src="/static/proof-of-work.js"' in page and "<noscript>" in page
    data = {**form_fields(page), **valid_answers(wave)}
    data[proof_of_work.FIELD] = solve(challenge_in(page))

    assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    assert stored_counts()[0] == 1


def test_without_a_solution_the_answers_come_back_with_an_explanation(client, pow_on):
    wave = make_wave()
    data = form_post(client, wave, lang="en")

    refused = client.post(f"/s/{wave.id}?lang=en", data=data)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and stored_counts() == (0, 0)
    assert "needs JavaScript" in page and "Please turn JavaScript on" in page
    assert 'value="很好"' in page or "很好" in page  # the answers are kept


def test_the_explanation_is_in_chinese_by_default(client, pow_on):
    wave = make_wave()
    page = client.get(f"/s/{wave.id}").get_data(as_text=True)
    assert "这需要 JavaScript，而它目前已关闭" in page


@pytest.mark.parametrize("forgery", ["wrong number", "other form", "bad signature", "expired",
                                     "garbage"])
def test_forged_or_borrowed_solutions_are_refused(app, client, pow_on, forgery):
    wave = make_wave()
    data = form_post(client, wave)
    other = form_post(client, wave, seed=1)  # another form: another ticket
    own = proof_of_work.issue_challenge(data["ticket"])
    solutions = {
        "wrong number": lambda: solve(own, number=(int(solve_number(own)) + 1)),
        "other form": lambda: solve(proof_of_work.issue_challenge(other["ticket"])),
        "bad signature": lambda: solve(own, signature="0" * 64),
        "expired": lambda: solve(proof_of_work.issue_challenge(data["ticket"],
                                                               now=time.time() - 2 * 86400)),
        "garbage": lambda: "not base64 {",
    }
    data[proof_of_work.FIELD] = solutions[forgery]()

    assert client.post(f"/s/{wave.id}", data=data).status_code == 403
    assert stored_counts() == (0, 0)


def solve_number(challenge: dict) -> int:
    return json.loads(base64.b64decode(solve(challenge)))["number"]


def test_a_solution_serves_one_form_once(client, pow_on):
    wave = make_wave()
    data = form_post(client, wave)
    data[proof_of_work.FIELD] = solve(proof_of_work.issue_challenge(data["ticket"]))
    assert client.post(f"/s/{wave.id}", data=data).status_code == 303
    assert client.post(f"/s/{wave.id}", data=data).status_code == 409  # the ticket is spent
    assert stored_counts()[0] == 1


def test_invitation_waves_are_not_asked(client, pow_on):
    wave = make_wave(mode="invitation", districts=["310109"])
    assert "proof-of-work" not in client.get(f"/s/{wave.id}").get_data(as_text=True)


def test_the_work_setting_is_checked_at_start_up(monkeypatch):
    from surveyapp.config import load_config

    monkeypatch.setenv("SURVEYAPP_POW_MAX_NUMBER", "12")
    with pytest.raises(ValueError, match="SURVEYAPP_POW_MAX_NUMBER: expected a whole number"):
        load_config()
