"""Sign-in throttling slows guessing but cannot be used to lock a real user out."""
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from flask import request

from surveyapp import create_app
from surveyapp.config import load_config
from surveyapp.extensions import db
from surveyapp.models.accounts import LoginFailure
from surveyapp.services import accounts, login_throttle
from surveyapp.services.login_throttle import (
    ADDRESS_CAP,
    DEVICE_COOKIE,
    FREE_FAILURES,
    client_fingerprint,
    device_of,
    new_device_cookie,
)
from tests.web.staff_fixtures import PASSWORD, make_geography, make_user, staff_client

SECRET = "test-secret"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def analyst(app):
    make_geography()
    user = make_user("analyst", username="wang")
    db.session.commit()
    return user


def browser(app, address: str):
    client = staff_client(app)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, username="wang", password=PASSWORD) -> int:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/auth/login", data={"username": username, "password": password,
                                            "csrf_token": token}).status_code


def test_failures_from_five_addresses_do_not_lock_the_account_for_a_sixth(app, analyst):
    for n in range(5):
        attacker = browser(app, f"203.0.113.{n + 1}")
        for _ in range(FREE_FAILURES - 1):
            assert sign_in(attacker, password="wrong password!") == 401
    assert sign_in(browser(app, "198.51.100.20")) == 302


def test_made_up_names_from_one_address_do_not_lock_out_a_known_browser(app, analyst):
    office = "192.0.2.50"  # one NAT address shared by the analyst and the attacker
    own = browser(app, office)
    assert sign_in(own) == 302  # earlier sign-in: the browser now holds a device cookie
    assert own.get_cookie(DEVICE_COOKIE, path="/auth/login") is not None
    attacker = browser(app, office)
    for n in range(ADDRESS_CAP):
        assert sign_in(attacker, username=f"made-up-{n}", password="guess guess") == 401
    assert sign_in(attacker) == 429  # the address cap holds for browsers without the cookie
    assert sign_in(own) == 302


def test_a_user_name_and_address_back_off_one_two_four_minutes(app, analyst):
    client = client_fingerprint("203.0.113.9", SECRET)
    now = datetime.now(UTC)
    for _ in range(FREE_FAILURES):
        assert accounts.authenticate("wang", "nope nope nope", client, now=now) is None
    with pytest.raises(login_throttle.LoginThrottled) as raised:
        accounts.authenticate("wang", PASSWORD, client, now=now + timedelta(seconds=59))
    assert raised.value.retry_after == timedelta(seconds=1)
    later = now + timedelta(minutes=1)
    assert accounts.authenticate("wang", "nope nope nope", client, now=later) is None
    with pytest.raises(login_throttle.LoginThrottled) as raised:
        accounts.authenticate("wang", PASSWORD, client, now=later + timedelta(minutes=1))
    assert raised.value.retry_after == timedelta(minutes=1)  # 2 minutes after the 6th failure
    assert accounts.authenticate("wang", PASSWORD, client,
                                 now=later + timedelta(minutes=2)) == analyst


def test_backoff_never_exceeds_fifteen_minutes(app, analyst):
    client = client_fingerprint("203.0.113.10", SECRET)
    now = datetime.now(UTC)
    db.session.add_all(LoginFailure(username="wang", client_hash=client, failed_at=now)
                       for _ in range(12))
    assert login_throttle.wait_before(login_throttle.Attempt("wang", client), now) == \
        timedelta(minutes=15)


def test_a_device_cookie_counts_failures_against_that_browser_only(app, analyst):
    client = client_fingerprint("203.0.113.11", SECRET)
    device = device_of(new_device_cookie("wang", SECRET), "wang", SECRET)
    now = datetime.now(UTC)
    for _ in range(FREE_FAILURES):
        assert accounts.authenticate("wang", "nope nope nope", client, device, now=now) is None
    with pytest.raises(login_throttle.LoginThrottled):
        accounts.authenticate("wang", PASSWORD, client, device, now=now)
    assert accounts.authenticate("wang", PASSWORD, client, now=now) == analyst  # no cookie


def test_device_cookies_are_bound_to_their_user_name_and_signature():
    cookie = new_device_cookie("wang", SECRET)
    assert device_of(cookie, "wang", SECRET) is not None
    assert device_of(cookie, "li", SECRET) is None
    assert device_of(cookie, "wang", "another secret") is None
    assert device_of(cookie[:-2] + "xx", "wang", SECRET) is None
    assert device_of("", "wang", SECRET) is None


def test_user_names_are_throttled_whatever_their_case(app, analyst):
    client = client_fingerprint("203.0.113.12", SECRET)
    now = datetime.now(UTC)
    for name in ("WANG", "Wang", "wAng", "wanG", "wang"):
        accounts.authenticate(name, "nope nope nope", client, now=now)
    with pytest.raises(login_throttle.LoginThrottled):
        accounts.authenticate("wang", PASSWORD, client, now=now)


def test_failures_and_their_address_hashes_are_deleted_after_an_hour(app, analyst):
    client = client_fingerprint("203.0.113.13", SECRET)
    then = datetime.now(UTC) - login_throttle.MEMORY - timedelta(seconds=1)
    accounts.authenticate("wang", "nope nope nope", client, now=then)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 1
    accounts.authenticate("nobody-here", "nope nope nope", "other", now=datetime.now(UTC))
    hashes = db.session.scalars(sa.select(LoginFailure.client_hash)).all()
    assert hashes == ["other"]


def test_the_stored_hash_is_keyed_and_not_the_address(client, analyst):
    assert client_fingerprint("203.0.113.14", SECRET) != client_fingerprint("203.0.113.14", "k2")
    assert "203.0.113.14" not in client_fingerprint("203.0.113.14", SECRET)


# ------------------------------------------------------------------------ trusted proxies

def whoami_app(tmp_path, proxies: int):
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SURVEYAPP_INSTANCE_PATH": str(tmp_path),
                      "SURVEYAPP_TRUSTED_PROXIES": proxies})
    app.add_url_rule("/whoami", "whoami", lambda: f"{request.remote_addr} {request.scheme}")
    return app.test_client()


def test_trusted_proxies_give_the_forwarded_client_address(tmp_path):
    forwarded = {"X-Forwarded-For": "203.0.113.77, 10.0.0.2", "X-Forwarded-Proto": "https"}
    behind_one = whoami_app(tmp_path, 1)
    answer = behind_one.get("/whoami", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert answer.get_data(as_text=True) == "10.0.0.2 https"  # one hop believed, no more
    behind_two = whoami_app(tmp_path, 2)
    answer = behind_two.get("/whoami", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert answer.get_data(as_text=True).startswith("203.0.113.77 ")


def test_without_trusted_proxies_a_forwarded_header_is_ignored(tmp_path):
    direct = whoami_app(tmp_path, 0)
    answer = direct.get("/whoami", headers={"X-Forwarded-For": "203.0.113.77"},
                        environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert answer.get_data(as_text=True) == "192.0.2.1 http"


def test_trusted_proxies_setting_is_checked(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "k")
    assert load_config()["SURVEYAPP_TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("SURVEYAPP_TRUSTED_PROXIES", "2")
    assert load_config()["SURVEYAPP_TRUSTED_PROXIES"] == 2
    for bad in ("-1", "many", "11"):
        monkeypatch.setenv("SURVEYAPP_TRUSTED_PROXIES", bad)
        with pytest.raises(ValueError, match="SURVEYAPP_TRUSTED_PROXIES"):
            load_config()
