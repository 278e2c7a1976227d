"""An optional proof-of-work challenge for open waves, self-hosted in the style of ALTCHA.

Open waves have no code, so nothing but the rate limit stops a script from filling the form
many times over many addresses. With SURVEYAPP_POW_OPEN_WAVES=1 each displayed form carries a
challenge the browser must solve before its answers are accepted: find the number n in
[0, maxnumber] with SHA-256(salt + n) = challenge (static/proof-of-work.js does it in the
resident's browser, in about a second on a phone; no third-party service, which many residents
could not reach). The server stores nothing: the challenge is signed with the secret key, and
its salt is bound to the form's one-time ticket and carries an expiry, so a solution counts
for that one form only, once.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from flask import current_app

ALGORITHM = "SHA-256"
FIELD = "proof_of_work"  # the form field the solution is posted in
MAX_PAYLOAD = 2000
LIFETIME = 24 * 3600  # seconds: as long as the form's ticket


def enabled_for(wave) -> bool:
    return wave.mode == "open" and bool(current_app.config.get("SURVEYAPP_POW_OPEN_WAVES"))


def issue_challenge(ticket: str, now: float | None = None) -> dict[str, Any]:
    """A signed challenge for the form holding ``ticket``, as proof-of-work.js reads it."""
    expires = int((now or time.time()) + LIFETIME)
    salt = f"{_ticket_tag(ticket)}.{secrets.token_hex(8)}?expires={expires}"
    number = secrets.randbelow(current_app.config["SURVEYAPP_POW_MAX_NUMBER"] + 1)
    challenge = _sha256(f"{salt}{number}")
    return {"algorithm": ALGORITHM, "challenge": challenge, "salt": salt,
            "maxnumber": current_app.config["SURVEYAPP_POW_MAX_NUMBER"],
            "signature": _sign(challenge)}


def is_solved(payload: str, ticket: str, now: float | None = None) -> bool:
    """Whether ``payload`` (base64 JSON posted by the browser) solves a challenge we issued for
    this ticket that has not expired. Any malformed payload is simply not a solution."""
    if not payload or len(payload) > MAX_PAYLOAD:
        return False
    try:
        solution = json.loads(base64.b64decode(payload, validate=True))
        salt, challenge = str(solution["salt"]), str(solution["challenge"])
        number, signature = int(solution["number"]), str(solution["signature"])
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        return False
    tag, _, rest = salt.partition(".")
    expires = rest.partition("?expires=")[2]
    return (solution.get("algorithm") == ALGORITHM
            and hmac.compare_digest(signature, _sign(challenge))
            and hmac.compare_digest(tag, _ticket_tag(ticket))
            and expires.isdigit() and int(expires) > (now or time.time())
            and 0 <= number <= current_app.config["SURVEYAPP_POW_MAX_NUMBER"]
            and hmac.compare_digest(_sha256(f"{salt}{number}"), challenge))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sign(challenge: str) -> str:
    key = ("proof-of-work:" + current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, challenge.encode(), hashlib.sha256).hexdigest()


def _ticket_tag(ticket: str) -> str:
    """A short keyed digest of the form's ticket: ties the challenge to that one form."""
    key = ("proof-of-work-ticket:" + current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, ticket.encode(), hashlib.sha256).hexdigest()[:24]
