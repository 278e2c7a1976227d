"""Rate limits per client address: the survey POST, code entry, sign-in and the API answer 429
past their limit (a page in both languages, or JSON), counted in memory or in a shared Redis.

The rest of the suite runs with limits off (tests/conftest.py); here each test builds its own
application with low limits, on the already migrated test database.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask

from surveyapp import create_app
from surveyapp.blueprints.survey_done import COOKIE
from surveyapp.config import load_config
from surveyapp.extensions import db
from surveyapp.services.invitations import generate_codes
from tests.conftest import empty_all_tables, test_config
from tests.web.factories import form_fields, form_post, make_wave, stored_counts

LOW = {"SURVEYAPP_RATELIMIT_SURVEY": "3 per minute", "SURVEYAPP_RATELIMIT_CODE": "3 per minute",
       "SURVEYAPP_RATELIMIT_LOGIN": "3 per minute", "SURVEYAPP_RATELIMIT_API": "3 per minute"}
REDIS_URL = os.environ.get("SURVEYAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
RESIDENT, NEIGHBOUR = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "203.0.113.8"}


@pytest.fixture(autouse=True)
def away_from_a_minute_edge() -> None:
    """Each test's requests fall in one minute. Past a window's edge the sliding-window counter
    weighs the previous minute's 3 requests by the part of it still in the window and rounds
    down (limits: floor(3 * 59.x / 60) = 2), so a 4th request sent just after the edge passes:
    a test begun in a minute's last seconds waits for the next minute."""
    into_minute = time.time() % 60
    if into_minute > 45:
        time.sleep(60.1 - into_minute)


def limited_app(database_url: str, instance, **settings) -> Flask:
    return create_app({**test_config(database_url, instance), "RATELIMIT_ENABLED": True,
                       "RATELIMIT_STORAGE_URI": "memory://", **LOW, **settings})


@pytest.fixture
def app(migrated_app, database_url, tmp_path) -> Iterator[Flask]:
    """This module's own application, limits on (it replaces the shared ``app`` fixture)."""
    app = limited_app(database_url, tmp_path)
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_the_fourth_survey_post_in_a_minute_is_refused_and_stores_nothing(app, client):
    wave = make_wave()
    bodies = [form_post(client, wave, seed=i) for i in range(4)]  # GETs are not counted

    def post(body: dict) -> int:
        # as from four browsers behind one address: forget "this browser has answered"
        client.delete_cookie(COOKIE)
        return client.post(f"/s/{wave.id}", data=body, environ_base=RESIDENT).status_code

    statuses = [post(body) for body in bodies]

    assert statuses == [303, 303, 303, 429]
    assert stored_counts()[0] == 3
    other = client.post(f"/s/{wave.id}", data=form_post(client, wave, seed=9),
                        environ_base=NEIGHBOUR)
    assert other.status_code == 303  # another address has its own allowance


def test_the_429_page_says_what_happened_in_both_languages(app, client):
    wave = make_wave()
    body = form_post(client, wave, district=None)  # incomplete: re-shown, counted all the same
    for _ in range(3):
        assert client.post(f"/s/{wave.id}", data=body, environ_base=RESIDENT).status_code == 422
    refused = client.post(f"/s/{wave.id}", data=body, environ_base=RESIDENT)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "请求过于频繁" in page and "Too many requests came from your connection" in page
    assert "1" in page and "nothing was stored" in page
    assert refused.headers["Content-Security-Policy"]  # still a page of ours, with headers


def test_invitation_code_guesses_are_limited(app, client):
    wave = make_wave(mode="invitation", districts=["310109"])
    code = generate_codes(wave, "310109", 1)[0]
    db.session.commit()
    token = form_fields(client.get(f"/s/{wave.id}").get_data(as_text=True))

    guesses = [client.post(f"/s/{wave.id}/code", data={**token, "code": f"ZZZZZ-ZZZZ{i}"},
                           environ_base=RESIDENT).status_code for i in range(3)]
    right_too_late = client.post(f"/s/{wave.id}/code", data={**token, "code": code},
                                 environ_base=RESIDENT)

    assert guesses == [403, 403, 403] and right_too_late.status_code == 429
    assert client.get(f"/s/{wave.id}", environ_base=RESIDENT).status_code == 200  # reading: free


def test_sign_in_posts_are_limited(app, client):
    token = form_fields(client.get("/auth/login").get_data(as_text=True))
    statuses = [client.post("/auth/login", data={**token, "username": "nobody", "password": "x"},
                            environ_base=RESIDENT).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_the_api_answers_429_in_json(app, client):
    statuses = [client.get("/api/v1/waves", environ_base=RESIDENT).status_code for _ in range(3)]
    refused = client.get("/api/v1/waves", environ_base=RESIDENT,
                         headers={"Accept-Language": "en"})

    assert statuses == [401, 401, 401] and refused.status_code == 429
    assert refused.json["error"] == "Too Many Requests"
    assert "Retry-After" in refused.json["message"] and refused.headers["Retry-After"] == "60"


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys (and only they) are deleted afterwards."""
    if not redis_reachable():
        pytest.skip(f"needs a Redis server at {REDIS_URL} (set SURVEYAPP_TEST_REDIS_URL)")
    import redis

    prefix = f"surveyapp-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def test_two_workers_share_their_counts_through_redis(app, database_url, tmp_path, redis_prefix):
    import redis

    workers = [limited_app(database_url, tmp_path / str(i), RATELIMIT_STORAGE_URI=REDIS_URL,
                           RATELIMIT_KEY_PREFIX=redis_prefix) for i in range(2)]
    clients = [worker.test_client() for worker in workers]

    statuses = [clients[i % 2].get("/api/v1/waves", environ_base=RESIDENT).status_code
                for i in range(4)]

    assert statuses == [401, 401, 401, 429]  # one allowance across both processes
    connection = redis.Redis.from_url(REDIS_URL)
    assert list(connection.scan_iter(match=f"*{redis_prefix}*"))  # the counts are in Redis
    connection.close()


def test_an_unreachable_storage_serves_the_request_instead_of_failing(database_url, tmp_path,
                                                                       migrated_app):
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    app = limited_app(database_url, tmp_path, RATELIMIT_STORAGE_URI=dead)
    app.logger.disabled = True
    client = app.test_client()
    with app.app_context():
        try:
            statuses = {client.get("/api/v1/waves").status_code for _ in range(5)}
        finally:
            db.engine.dispose()
    assert statuses == {401}


def test_a_mistyped_limit_stops_start_up_naming_the_setting(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_RATELIMIT_SURVEY", "ten a minute")
    with pytest.raises(ValueError, match="SURVEYAPP_RATELIMIT_SURVEY: expected limits"):
        load_config()


def test_limits_are_off_in_the_shared_test_configuration(migrated_app):
    assert migrated_app.config["RATELIMIT_ENABLED"] is False
