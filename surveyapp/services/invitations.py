"""One-time invitation codes for waves in invitation mode.

Codes are handed out on paper or by SMS, one per sampled household, per wave and district (and
optionally street). The database keeps only HMAC-SHA256(secret key, code): a keyed hash, not a
slow password hash like argon2, because a resident's code must be *looked up* by its hash in one
indexed query (argon2's per-hash salt makes that impossible), and because the codes are random
(about 50 bits) rather than human-chosen, so a fast keyed hash is not open to dictionary attacks.
Without the secret key a stolen table reveals no usable code.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from flask import current_app

from surveyapp.extensions import db
from surveyapp.models.survey import InvitationCode, Street, Wave, utcnow

# Crockford-style alphabet without 0/O, 1/I/L, U: easy to read aloud and to type on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


class InvitationError(ValueError):
    """Codes cannot be generated as asked; the message names the offending argument."""


def normalise_code(text: str) -> str:
    """Upper-case and drop spaces and dashes, so '7kq2-m9xp 4t' matches '7KQ2M9XP4T'."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def code_hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_code(code).encode(), hashlib.sha256).hexdigest()


def generate_codes(
    wave: Wave, district_code: str, count: int, street_code: str | None = None
) -> list[str]:
    """Create ``count`` codes for a district (and street) of ``wave``; return the plain codes.

    The plain codes exist only in the return value: hand them out, they cannot be recovered.
    """
    if wave.mode != "invitation":
        raise InvitationError(f"wave: wave {wave.label} collects in {wave.mode!r} mode, not by invitation")
    if district_code not in {d.code for d in wave.districts}:
        raise InvitationError(f"district: {district_code} is not covered by wave {wave.label}")
    if street_code is not None:
        street = db.session.get(Street, street_code)
        if street is None or street.district_code != district_code:
            raise InvitationError(f"street: {street_code} is not a street of district {district_code}")
    if not 1 <= count <= 100_000:
        raise InvitationError("count: expected between 1 and 100000 codes")
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(count)]
    db.session.add_all(
        InvitationCode(
            code_hash=code_hash(code),
            wave_id=wave.id,
            district_code=district_code,
            street_code=street_code,
        )
        for code in codes
    )
    db.session.flush()
    return [format_code(code) for code in codes]


def format_code(code: str) -> str:
    """Group as XXXXX-XXXXX for printing; :func:`normalise_code` undoes it."""
    return f"{code[:5]}-{code[5:]}"


def find_code(wave: Wave, code: str) -> InvitationCode | None:
    """The invitation for ``code`` in ``wave`` (used or not), or None if there is no such code."""
    return db.session.scalar(
        sa.select(InvitationCode).where(
            InvitationCode.wave_id == wave.id, InvitationCode.code_hash == code_hash(code)
        )
    )


def spend_code(invitation: InvitationCode) -> bool:
    """Mark the code used, atomically; False if another request used it first.

    A conditional UPDATE, so two concurrent submissions with one code cannot both succeed: the
    database serialises them on the row and only one sees ``used_at IS NULL``. Only the date
    is stored: a time would link the code to its response's ``submitted_at``.
    """
    result = db.session.execute(
        sa.update(InvitationCode)
        .where(InvitationCode.id == invitation.id, InvitationCode.used_at.is_(None))
        .values(used_at=utcnow().date())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
