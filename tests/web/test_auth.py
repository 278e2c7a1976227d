"""Sign-in, throttling, sign-out, session safety and `surveyapp user create`."""
import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles

from surveyapp.cli import main
from surveyapp.config import load_config
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, LoginFailure, User
from surveyapp.services import accounts, login_throttle
from tests.web.staff_fixtures import (
    OWN,
    PASSWORD,
    login_as,
    make_geography,
    make_user,
    staff_client,
)


@pytest.fixture
def client(app):
    return staff_client(app)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """Argon2id with its cheapest parameters: these tests are about the flow, not the cost."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


def csrf(client, url="/auth/login") -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def sign_in(client, username, password=PASSWORD, next_url=None):
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": csrf(client)})


@pytest.fixture
def bureau(app):
    make_geography()
    return make_user("bureau", [OWN], username="hongkou")


def test_bureau_signs_in_and_lands_on_its_reports(client, bureau):
    response = sign_in(client, "hongkou")
    assert response.status_code == 302 and response.location == "/bureau/"
    assert "hongkou" in client.get("/bureau/").get_data(as_text=True)


def test_admin_lands_on_administration(client, app):
    make_user("admin", username="root1")
    assert sign_in(client, "root1").location == "/admin/"


def test_wrong_password_is_refused_and_recorded_without_the_address(client, bureau):
    response = sign_in(client, "hongkou", "wrong password!")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    failure = db.session.scalar(sa.select(LoginFailure))
    assert failure.username == "hongkou"
    assert failure.client_hash == login_throttle.client_fingerprint("127.0.0.1", "test-secret")
    assert "127.0.0.1" not in failure.client_hash


def test_five_failures_throttle_even_the_right_password(app, client, bureau):
    for _ in range(login_throttle.FREE_FAILURES):
        assert sign_in(client, "hongkou", "wrong password!").status_code == 401
    other_process = staff_client(app)  # a new cookie jar: the limit lives in the database
    response = sign_in(other_process, "hongkou")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert "1 分钟" in response.get_data(as_text=True)


def test_disabled_account_cannot_sign_in_and_loses_its_session(client, bureau):
    login_as(client, bureau)
    accounts.set_active(bureau, False)
    db.session.commit()
    assert client.get("/bureau/").status_code == 302
    assert sign_in(client, "hongkou").status_code == 401


def test_login_form_needs_its_csrf_token(client, bureau):
    response = client.post("/auth/login", data={"username": "hongkou", "password": PASSWORD})
    assert response.status_code == 400 and "_user_id" not in _session(client)


def test_logout_is_post_only_and_ends_the_session(client, bureau):
    login_as(client, bureau)
    assert client.get("/auth/logout").status_code == 405
    token = csrf(client, "/bureau/")
    assert client.post("/auth/logout", data={"csrf_token": token}).location == "/auth/login"
    assert client.get("/bureau/").status_code == 302


def test_logout_without_csrf_token_is_refused(client, bureau):
    login_as(client, bureau)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/bureau/").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_next_never_leaves_the_site(client, bureau, target):
    assert sign_in(client, "hongkou", next_url=target).location == "/bureau/"


def test_next_within_the_site_is_followed(client, bureau):
    assert sign_in(client, "hongkou", next_url="/bureau/").location == "/bureau/"


def test_session_cookie_flags(client, bureau, monkeypatch):
    sign_in(client, "hongkou")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    monkeypatch.setenv("SURVEYAPP_SECURE_COOKIES", "1")
    assert load_config()["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SURVEYAPP_SECURE_COOKIES", "0")
    assert load_config()["SESSION_COOKIE_SECURE"] is False


def test_passwords_are_stored_as_argon2id(app):
    make_geography()
    user = accounts.create_user("analyst1", "a long enough secret", "analyst")
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough secret" not in user.password_hash


def test_create_user_lists_every_problem(app):
    make_geography()
    with pytest.raises(accounts.AccountError) as raised:
        accounts.create_user("x", "short", "bureau", ["999999"])
    fields = [problem.split(" / ")[1].split(":")[0] for problem in raised.value.problems]
    assert fields == ["username", "password", "district"]


def test_cli_creates_a_bureau_account(runner, app):
    make_geography()
    db.session.commit()
    result = runner.invoke(main, ["user", "create", "--role", "bureau", "--district", OWN,
                                  "--username", "hk-bureau", "--password-stdin"],
                           input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "created bureau hk-bureau for 310109" in result.output
    user = db.session.scalar(sa.select(User).where(User.username == "hk-bureau"))
    assert [d.code for d in user.districts] == [OWN]
    assert db.session.scalar(sa.select(AuditLog.action)) == "user.create"
    listing = runner.invoke(main, ["user", "list"])
    assert "hk-bureau\tbureau\t310109\tactive" in listing.output


def test_cli_refuses_an_unknown_district(runner, app):
    make_geography()
    db.session.commit()
    result = runner.invoke(main, ["user", "create", "--role", "bureau", "--district", "000000",
                                  "--username", "nobody", "--password-stdin"],
                           input="a long enough secret\n")
    assert result.exit_code != 0
    assert "unknown code(s) 000000" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def _session(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def test_cli_sets_a_new_password_and_reenables(runner, app, bureau):
    accounts.set_active(bureau, False)
    db.session.commit()
    result = runner.invoke(main, ["user", "set-password", "--username", "hongkou",
                                  "--password-stdin"], input="a brand new secret\n")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("hongkou", "a brand new secret", "c" * 64) == bureau
    assert runner.invoke(main, ["user", "set-password", "--username", "nobody",
                                "--password-stdin"], input="whatever123\n").exit_code != 0
