"""Many residents at once: every accepted response is stored exactly once (PostgreSQL).

A real threaded server and 8 clients, each form with its own cookie jar, fetch the form and
submit it; some forms are submitted twice at the same moment, as a double click would. SQLite
serialises writers with a file lock, so this test is about PostgreSQL's row-level behaviour.
"""
from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import requests
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import Answer, FormToken, Response
from tests.web.factories import (
    form_fields,
    live_server,
    make_wave,
    questionnaire_for,
    valid_answers,
)

CLIENTS = 8
FORMS_PER_CLIENT = 26  # 208 forms in all
DOUBLE_EVERY = 9  # every 9th form of a client is posted twice at once: 24 double submits


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("concurrency test runs on PostgreSQL only (SQLite serialises all writers)")


def resident(base: str, wave_id: int, bodies: list[dict[str, str]]) -> Counter:
    """One client: fetch and submit its forms in turn, each from a fresh browser (a browser
    answers a wave once); return the status codes it received."""
    statuses: Counter = Counter()
    with ThreadPoolExecutor(2) as twins:
        for number, body in enumerate(bodies, 1):
            session = requests.Session()
            page = session.get(f"{base}/s/{wave_id}", timeout=60)
            page.raise_for_status()
            data = {**form_fields(page.text), **body}
            post = partial(session.post, f"{base}/s/{wave_id}", data=data,
                           allow_redirects=False, timeout=60)
            if number % DOUBLE_EVERY == 0:
                statuses.update(f.result().status_code
                                for f in [twins.submit(post), twins.submit(post)])
            else:
                statuses[post().status_code] += 1
            session.close()
    return statuses


def test_concurrent_residents_each_stored_exactly_once(postgres_only, app, caplog):
    caplog.set_level(logging.WARNING, logger="werkzeug")
    wave = make_wave(districts=["310109", "310110"])
    districts = ["310109", "310110"]
    bodies = [
        [valid_answers(wave, seed=c * 1000 + i, district=districts[(c + i) % 2])
         for i in range(FORMS_PER_CLIENT)]
        for c in range(CLIENTS)
    ]
    items = len(questionnaire_for(wave).items)

    with live_server(app) as base, ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda b: resident(base, wave.id, b), bodies))

    statuses = sum(results, Counter())
    doubles = CLIENTS * (FORMS_PER_CLIENT // DOUBLE_EVERY)
    accepted = statuses[303]
    assert set(statuses) <= {303, 409}, statuses
    assert accepted == CLIENTS * FORMS_PER_CLIENT >= 200
    assert statuses[409] == doubles
    db.session.expire_all()
    assert count(Response) == accepted
    assert count(FormToken) == accepted
    assert count(Answer) == accepted * items
    assert stored_signatures() == sorted(signature(b) for client in bodies for b in client)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def signature(body: dict[str, str]) -> tuple:
    """What identifies a submitted form: its place and all its answers."""
    answers = tuple(sorted((k[2:], int(v)) for k, v in body.items() if k.startswith("q_")))
    return (body["district"], body["street"], answers)


def stored_signatures() -> list[tuple]:
    answers: dict[str, list] = {}
    for response_id, item, value in db.session.execute(
        sa.select(Answer.response_id, Answer.item_id, Answer.value)
    ):
        answers.setdefault(response_id, []).append((item, value))
    return sorted(
        (r.district_code, r.street_code, tuple(sorted(answers[r.id])))
        for r in db.session.scalars(sa.select(Response))
    )
