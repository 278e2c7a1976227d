"""API bearer tokens: created for a user, shown once, stored only as a SHA-256, expiring.

A token lasts SURVEYAPP_TOKEN_DAYS (90 by default) unless given its own number of days; it
is revoked by hand, or with every other token of its user when that user signs out, changes
password or role, or is disabled (surveyapp.services.accounts.end_sessions).

The tokens are 256 random bits, so a plain SHA-256 (not a slow password hash) is the right
way to store them: nobody can guess a preimage, and lookups stay a single indexed query.
Errors name the command-line option first, then say what is wrong in the current language.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from surveyapp.choices import TOKEN_MAX_DAYS
from surveyapp.extensions import db
from surveyapp.models.accounts import User, normal_name, utcnow
from surveyapp.models.runs import ApiToken
from surveyapp.models.survey import as_utc

PREFIX = "sa_"


class TokenError(ValueError):
    """A token request naming an unknown user or token."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(username: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``username`` (flushed): the row and the token text, shown only now.

    It expires after ``days`` (default SURVEYAPP_TOKEN_DAYS).
    """
    days = current_app.config["SURVEYAPP_TOKEN_DAYS"] if days is None else days
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise TokenError("--days: " + _("expected a whole number from 1 to %(most)d",
                                        most=TOKEN_MAX_DAYS))
    user = db.session.scalar(sa.select(User).where(User.username == normal_name(username)))
    if user is None:
        raise TokenError("--user: " + _("unknown user %(name)r", name=username))
    if not user.active:
        raise TokenError("--user: " + _("user %(name)r is disabled", name=username))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=token_hash(token), user_id=user.id,
                   expires_at=utcnow() + timedelta(days=days))
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke_token(token_id: int) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise TokenError(f"token {token_id}: " + _("no such token"))
    row.revoked = True
    db.session.flush()
    return row


def revoke_tokens_of(user: User) -> list[ApiToken]:
    """Revoke every token of ``user`` still in force; the ones revoked now."""
    rows = list(db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked.is_(False)).order_by(ApiToken.id)))
    for row in rows:
        row.revoked = True
    db.session.flush()
    return rows


def token_state(row: ApiToken, now: datetime | None = None) -> str:
    """'active', 'revoked' or 'expired'."""
    if row.revoked:
        return "revoked"
    return "expired" if as_utc(row.expires_at) <= (now or utcnow()) else "active"


def user_for_token(token: str) -> User | None:
    """The active user an unrevoked, unexpired token belongs to; marks the token as used."""
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or token_state(row) != "active":
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    db.session.flush()
    return user


def tokens_of(username: str | None = None) -> list[tuple[ApiToken, User]]:
    query = sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if username is not None:
        query = query.where(User.username == normal_name(username))
    return [(row, user) for row, user in db.session.execute(query)]
