"""API bearer tokens: created for a user, shown once, stored only as a SHA-256, revocable.

The tokens are 256 random bits, so a plain SHA-256 (not a slow password hash) is the right
way to store them: nobody can guess a preimage, and lookups stay a single indexed query.
Errors name the command-line option first, then say what is wrong in the current language.
"""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.models.accounts import User, utcnow
from surveyapp.models.runs import ApiToken

PREFIX = "sa_"


class TokenError(ValueError):
    """A token request naming an unknown user or token."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(username: str) -> tuple[ApiToken, str]:
    """A new token for ``username`` (flushed): the row and the token text, shown only now."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise TokenError("--user: " + _("unknown user %(name)r", name=username))
    if not user.active:
        raise TokenError("--user: " + _("user %(name)r is disabled", name=username))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=token_hash(token), user_id=user.id)
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


def user_for_token(token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to; marks the token as used."""
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked:
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
        query = query.where(User.username == username)
    return [(row, user) for row, user in db.session.execute(query)]
