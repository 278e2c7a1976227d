"""Server-side revocation: sessions bound to a session version, expiring and revocable tokens,
and the audit entries of sign-in, failed sign-in, sign-out and tokens."""
import re
import time
from datetime import timedelta

import itsdangerous.timed
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles

from surveyapp import create_app
from surveyapp.cli import main
from surveyapp.config import load_config
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, utcnow
from surveyapp.models.runs import ApiToken
from surveyapp.models.survey import as_utc
from surveyapp.services import accounts
from surveyapp.services.tokens import create_token
from tests.web.staff_fixtures import (
    OWN,
    PASSWORD,
    login_as,
    make_geography,
    make_user,
    staff_client,
)

ELSEWHERE = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "curl/8.0"}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def client(app):
    return staff_client(app)


@pytest.fixture
def bureau(app):
    make_geography()
    user = make_user("bureau", [OWN], username="hongkou")
    db.session.commit()
    return user


def csrf(client, url="/auth/login") -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def sign_in(client, username="hongkou", password=PASSWORD):
    return client.post("/auth/login", data={"username": username, "password": password,
                                            "csrf_token": csrf(client)})


def copy_of_session(app, client):
    """Another client (other address and user agent) holding the same session cookie."""
    thief = staff_client(app)
    thief.environ_base.update(ELSEWHERE)
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def api_status(client, token: str) -> int:
    return client.get("/api/v1/waves", headers={"Authorization": f"Bearer {token}"}).status_code


def actions() -> list[tuple[str, str, str, str]]:
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id))
    return [(e.actor_name, e.action, e.target, e.reason) for e in rows]


def test_a_cookie_captured_before_sign_out_is_refused_after_it(app, client, bureau):
    assert sign_in(client).status_code == 302
    thief = copy_of_session(app, client)
    assert thief.get("/bureau/").status_code == 200  # the copy works while the session lives
    client.post("/auth/logout", data={"csrf_token": csrf(client, "/bureau/")})
    assert thief.get("/bureau/").status_code == 302
    assert client.get("/bureau/").status_code == 302


def test_sign_out_ends_every_session_and_token_of_the_user(app, client, bureau):
    _, token = create_token("hongkou")
    db.session.commit()
    other_browser = staff_client(app)
    assert sign_in(client).status_code == 302 and sign_in(other_browser).status_code == 302
    assert api_status(client, token) == 200
    client.post("/auth/logout", data={"csrf_token": csrf(client, "/bureau/")})
    assert other_browser.get("/bureau/").status_code == 302
    assert api_status(client, token) == 401


def test_set_password_ends_the_old_session_and_token(app, client, runner, bureau):
    login_as(client, bureau)
    _, token = create_token("hongkou")
    db.session.commit()
    assert client.get("/bureau/").status_code == 200 and api_status(client, token) == 200
    result = runner.invoke(main, ["user", "set-password", "--username", "hongkou",
                                  "--password-stdin"], input="a brand new secret\n")
    assert result.exit_code == 0, result.output
    assert client.get("/bureau/").status_code == 302
    assert api_status(client, token) == 401
    assert sign_in(staff_client(app), password="a brand new secret").status_code == 302


def test_disabling_ends_the_session_and_revokes_tokens(client, bureau):
    login_as(client, bureau)
    _, token = create_token("hongkou")
    accounts.set_active(bureau, False)
    accounts.set_active(bureau, True)  # enabling again does not bring them back
    db.session.commit()
    assert client.get("/bureau/").status_code == 302
    assert api_status(client, token) == 401


def test_a_role_change_ends_the_session_and_revokes_tokens(client, runner, bureau):
    login_as(client, bureau)
    _, token = create_token("hongkou")
    db.session.commit()
    result = runner.invoke(main, ["user", "set-role", "--username", "HongKou", "--role",
                                  "analyst"])
    assert result.exit_code == 0, result.output
    assert "hongkou is now analyst" in result.output
    assert client.get("/bureau/").status_code == 302
    assert api_status(client, token) == 401
    assert ("cli", "user.set_role", "user:hongkou", "role=analyst districts=-") in actions()
    assert ("cli", "token.revoke", f"token:{db.session.scalar(sa.select(ApiToken.id))}",
            "user:hongkou: role changed") in actions()


def test_a_refused_role_change_changes_nothing(runner, bureau):
    version = bureau.session_version
    result = runner.invoke(main, ["user", "set-role", "--username", "hongkou", "--role",
                                  "bureau", "--district", "999999"])
    assert result.exit_code != 0 and "unknown code(s) 999999" in result.output
    db.session.refresh(bureau)
    assert bureau.session_version == version and [d.code for d in bureau.districts] == [OWN]


def test_a_session_of_an_older_version_or_malformed_id_is_refused(client, bureau):
    with client.session_transaction() as session:
        session["_user_id"] = f"{bureau.id}:{bureau.session_version + 1}"
    assert client.get("/bureau/").status_code == 302
    for forged in (str(bureau.id), f"{bureau.id}:x", ":0"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert client.get("/bureau/").status_code == 302


def test_a_session_cookie_is_refused_twelve_hours_after_sign_in(client, bureau, monkeypatch):
    assert sign_in(client).status_code == 302
    later = int(time.time() + 12.1 * 3600)
    assert client.get("/bureau/").status_code == 200
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get("/bureau/").status_code == 302


def test_session_lifetime_is_configurable_and_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "k")
    assert load_config()["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    monkeypatch.setenv("SURVEYAPP_SESSION_HOURS", "2")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SURVEYAPP_INSTANCE_PATH": str(tmp_path)})
    assert app.permanent_session_lifetime == timedelta(hours=2)
    for bad in ("0", "two", "-1", "10000"):
        monkeypatch.setenv("SURVEYAPP_SESSION_HOURS", bad)
        with pytest.raises(ValueError, match="SURVEYAPP_SESSION_HOURS"):
            load_config()


# ------------------------------------------------------------------------------ tokens

def test_tokens_expire_after_90_days_by_default(client, bureau):
    row, token = create_token("hongkou")
    db.session.commit()
    assert abs(as_utc(row.expires_at) - (utcnow() + timedelta(days=90))) < timedelta(minutes=1)
    assert api_status(client, token) == 200
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api_status(client, token) == 401


def test_token_days_are_configurable(app, bureau, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEYAPP_TOKEN_DAYS", 7)
    row, _ = create_token("hongkou")
    assert abs(as_utc(row.expires_at) - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "k")
    monkeypatch.setenv("SURVEYAPP_TOKEN_DAYS", "30")
    assert load_config()["SURVEYAPP_TOKEN_DAYS"] == 30
    monkeypatch.setenv("SURVEYAPP_TOKEN_DAYS", "0")
    with pytest.raises(ValueError, match="SURVEYAPP_TOKEN_DAYS"):
        load_config()


def test_cli_creates_lists_and_revokes_tokens(runner, bureau, english_terminal):
    created = runner.invoke(main, ["token", "create", "--user", "hongkou", "--days", "1"])
    assert created.exit_code == 0, created.output
    row = db.session.scalar(sa.select(ApiToken))
    assert abs(as_utc(row.expires_at) - (utcnow() + timedelta(days=1))) < timedelta(minutes=1)
    listing = runner.invoke(main, ["token", "list"]).output
    expires = re.escape(as_utc(row.expires_at).isoformat(timespec="seconds"))
    assert re.search(rf"^{row.id}\thongkou\t\S+\+00:00\t{expires}\tnever\tactive$", listing, re.MULTILINE)
    assert runner.invoke(main, ["token", "revoke", str(row.id)]).exit_code == 0
    assert runner.invoke(main, ["token", "list", "--user", "HONGKOU"]).output.rstrip() \
        .endswith("\trevoked")
    assert [a[1] for a in actions()] == ["token.create", "token.revoke"]
    assert actions()[0][3].startswith(f"token {row.id}, expires ")
    refused = runner.invoke(main, ["token", "create", "--user", "hongkou", "--days", "0"])
    assert refused.exit_code != 0 and "--days" in refused.output


def test_admin_page_lists_and_revokes_tokens(app, client, bureau):
    admin = make_user("admin", username="chen")
    row, token = create_token("hongkou")
    expired, _ = create_token("hongkou")
    expired.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login_as(client, admin)
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "hongkou" in page and "有效 active" in page and "已过期 expired" in page
    assert page.count("撤销 Revoke</button>") == 1  # only the token still in force
    token_csrf = csrf(client, "/admin/tokens")
    assert client.post(f"/admin/tokens/{row.id}/revoke").status_code == 400  # no CSRF token
    client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": token_csrf})
    assert api_status(client, token) == 401
    assert "已撤销 revoked" in client.get("/admin/tokens").get_data(as_text=True)
    assert ("chen", "token.revoke", f"token:{row.id}", "user:hongkou") in actions()
    assert client.post("/admin/tokens/999/revoke", data={"csrf_token": token_csrf}
                       ).status_code == 404


def test_only_admins_see_the_token_page(client, bureau):
    login_as(client, bureau)
    assert client.get("/admin/tokens").status_code == 403


# ------------------------------------------------------------------------------ audit

def test_sign_in_failure_and_sign_out_are_audited(app, client, bureau):
    assert sign_in(client, password="wrong password!").status_code == 401
    assert sign_in(client, username="no-such-person", password="hunter2hunter2").status_code == 401
    assert sign_in(client).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf(client, "/bureau/")})
    assert actions() == [
        ("anonymous", "auth.login_failed", "user:hongkou", "wrong password"),
        ("anonymous", "auth.login_failed", "user:?", "unknown user name"),  # typed name not kept
        ("hongkou", "auth.login", "user:hongkou", ""),
        ("hongkou", "auth.logout", "user:hongkou", ""),
    ]


def test_a_disabled_account_and_a_throttled_attempt_are_audited(app, client, bureau):
    accounts.set_active(bureau, False)
    db.session.commit()
    assert sign_in(client).status_code == 401
    for _ in range(5):
        sign_in(client, password="wrong password!")
    assert sign_in(client).status_code == 429
    reasons = [reason for _, action, _, reason in actions() if action == "auth.login_failed"]
    assert reasons[0] == "account disabled" and reasons[-1] == "throttled"
