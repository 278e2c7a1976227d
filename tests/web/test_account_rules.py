"""Accounts: equal work for every sign-in, case-insensitive user names, hard-to-guess passwords."""
import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from flask_migrate import upgrade

from surveyapp import create_app
from surveyapp.cli import main
from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.services import accounts, demo_accounts
from surveyapp.services.password_policy import password_problem
from tests.conftest import test_config
from tests.web.staff_fixtures import PASSWORD, make_geography, make_user

WEAK = ["aaaaaaaaaa", "1234567890", " " * 10, "password123", "qwertyuiop"]


class CountingHasher(PasswordHasher):
    """The cheapest argon2id, recording the hash each verification is made against."""

    def __init__(self):
        cheapest = profiles.CHEAPEST
        super().__init__(time_cost=cheapest.time_cost, memory_cost=cheapest.memory_cost,
                         parallelism=cheapest.parallelism, hash_len=cheapest.hash_len,
                         salt_len=cheapest.salt_len, type=cheapest.type)
        self.checked: list[str] = []

    def verify(self, hash, password):
        self.checked.append(hash)
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


@pytest.fixture
def people(app, hasher):
    make_geography()
    active = accounts.create_user("active-one", PASSWORD, "analyst")
    disabled = accounts.create_user("disabled-one", PASSWORD, "analyst")
    accounts.set_active(disabled, False)
    return active, disabled


def parameters(argon2_hash: str) -> str:
    """'$argon2id$v=19$m=..,t=..,p=..': what decides the cost of verifying against it."""
    return "$".join(argon2_hash.split("$")[:4])


@pytest.mark.parametrize("username, password, signs_in", [
    ("nobody-at-all", PASSWORD, False),
    ("disabled-one", "wrong password!", False),
    ("disabled-one", PASSWORD, False),
    ("active-one", "wrong password!", False),
    ("active-one", PASSWORD, True),
])
def test_every_attempt_costs_one_argon2_verification_of_the_same_cost(
        hasher, people, username, password, signs_in):
    result = accounts.authenticate(username, password, f"client-{username}")
    assert (result is not None) == signs_in
    assert len(hasher.checked) == 1
    assert parameters(hasher.checked[0]) == parameters(people[0].password_hash)


def test_user_names_are_unique_whatever_the_case(app, hasher):
    accounts.create_user("demo-admin", PASSWORD, "admin")
    with pytest.raises(accounts.AccountError) as raised:
        accounts.create_user("Demo-Admin", PASSWORD, "admin")
    assert "already taken (case does not count: 'demo-admin')" in raised.value.problems[0]
    assert "已存在" in raised.value.problems[0]


def test_a_name_typed_in_capitals_is_stored_and_found_in_lower_case(app, hasher):
    make_geography()
    user = accounts.create_user("Hongkou-Bureau", PASSWORD, "analyst")
    assert user.username == "hongkou-bureau"
    assert accounts.authenticate("HONGKOU-BUREAU", PASSWORD, "c") == user


def test_the_database_refuses_a_name_in_capitals(app):
    with pytest.raises(sa.exc.IntegrityError, match="username_lower"):
        make_user("analyst", username="Upper-Case")
    db.session.rollback()


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_with_the_reason_in_both_languages(app, hasher, password):
    with pytest.raises(accounts.AccountError) as raised:
        accounts.create_user("analyst-x", password, "analyst")
    problem, = raised.value.problems
    zh, en = problem.split(" / ")
    assert zh.startswith("密码：太容易被猜到：") and re.search(r"[\u4e00-\u9fff]{4}", zh[10:])
    assert en.startswith("password: too easy to guess: ") and len(en) > 35
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_password_made_of_the_user_name_is_refused(app):
    assert password_problem("hongkou-bureau1", "hongkou-bureau") is not None
    assert password_problem("correct horse battery", "hongkou-bureau") is None


def test_the_length_rules_stay(app):
    assert "at least 10 characters" in password_problem("Xq9!vL2#")
    assert "at most 200 characters" in password_problem("correct horse battery " * 10)


def test_set_password_applies_the_policy(app, hasher, people):
    active, _ = people
    version = active.session_version
    with pytest.raises(accounts.AccountError):
        accounts.set_password(active, "1234567890")
    assert active.session_version == version  # refused: nothing ended, nothing changed


def test_the_cli_shows_why_a_password_is_refused(app, runner, hasher):
    make_geography()
    db.session.commit()
    result = runner.invoke(main, ["user", "create", "--role", "analyst", "--username", "li-x",
                                  "--password-stdin"], input="aaaaaaaaaa\n")
    assert result.exit_code != 0
    assert "重复" in result.output and 'Repeats like "aaa" are easy to guess.' in result.output


def test_demo_passwords_pass_the_policy(app, monkeypatch):
    draws = iter(["aaaaaaaaaaaaaaaa", "Kq3vW9xZ2mRt7LpB"])
    monkeypatch.setattr(demo_accounts.secrets, "token_urlsafe", lambda _n: next(draws))
    assert demo_accounts.strong_password("demo-admin") == "Kq3vW9xZ2mRt7LpB"


# ------------------------------------------------------------------------------ migration

def app_at(tmp_path, revision: str):
    app = create_app(test_config(f"sqlite:///{tmp_path / 'old.db'}", tmp_path))
    with app.app_context():
        upgrade(revision=revision)
    return app


def add_accounts(app, *names: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for name in names:
            conn.execute(sa.text(
                "INSERT INTO user_account (username, password_hash, role, active, created_at) "
                "VALUES (:name, 'x', 'analyst', 1, '2024-01-01 00:00:00')"), {"name": name})


def test_the_migration_lower_cases_existing_names(tmp_path):
    app = app_at(tmp_path, "5d2f0c3a9e41")
    add_accounts(app, "Demo-Admin", "hongkou")
    with app.app_context():
        upgrade()
        names = db.session.scalars(sa.select(User.username).order_by(User.username)).all()
        assert names == ["demo-admin", "hongkou"]
        db.engine.dispose()


def test_the_migration_refuses_names_differing_only_in_case(tmp_path, capfd):
    app = app_at(tmp_path, "5d2f0c3a9e41")
    add_accounts(app, "Demo-Admin", "demo-admin")
    with app.app_context():
        with pytest.raises(SystemExit):  # flask-migrate's way of reporting the RuntimeError
            upgrade()
        assert re.search(r"differ only in case.*: demo-admin$", capfd.readouterr().err, re.MULTILINE)
        names = db.session.scalars(sa.select(sa.text("username FROM user_account"))).all()
        assert sorted(names) == ["Demo-Admin", "demo-admin"]  # left for an administrator
        db.engine.dispose()
