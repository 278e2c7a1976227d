"""Staff accounts for the demo, so its bureau and admin pages can be tried at once.

Each account gets a fresh random password, shown once on the terminal and stored only as a hash.
An account that already exists is left alone (``surveyapp user set-password`` resets it).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.services.accounts import create_user
from surveyapp.services.password_policy import password_problem

HONGKOU = "310109"
DEMO_ACCOUNTS = (  # (username, role, districts)
    ("demo-admin", "admin", ()),
    ("demo-analyst", "analyst", ()),
    ("demo-hongkou", "bureau", (HONGKOU,)),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    districts: tuple[str, ...]
    password: str | None  # None: the account existed already and keeps its password


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo's admin, city analyst and Hongkou bureau accounts if they are missing."""
    accounts = []
    for username, role, districts in DEMO_ACCOUNTS:
        exists = db.session.scalar(sa.select(User.id).where(User.username == username))
        password = None
        if exists is None:
            password = strong_password(username)
            create_user(username, password, role, districts)
        accounts.append(DemoAccount(username, role, districts, password))
    return accounts


def strong_password(username: str) -> str:
    """16 random URL-safe characters that the password policy accepts (practically always the
    first draw: the loop only guards against a draw that happens to look like a word)."""
    while True:
        password = secrets.token_urlsafe(12)
        if password_problem(password, username) is None:
            return password
