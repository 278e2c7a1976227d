"""Sign-in throttling that slows guessing without letting anyone lock a real user out.

Failures are kept in the database (so the rules hold across every server process) for one
hour, then deleted with their address hash. Three rules:

- a browser that signed in as this user before shows a *device cookie* (a signed random id);
  its attempts count against that cookie only, so failures from elsewhere, even from the
  same address, never slow it down;
- without one, a user name and client address get FREE_FAILURES attempts, then back off:
  1, 2, 4, 8, then 15 minutes after each further failure;
- one address without device cookies gets at most ADDRESS_CAP failures in ADDRESS_WINDOW
  over all user names (against guessing many names); users with a device cookie pass.

No rule counts failures of one user name from everywhere, which is what let failures from
five addresses lock an account for a sixth.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer

from surveyapp.extensions import db
from surveyapp.models.accounts import LoginFailure
from surveyapp.models.survey import as_utc

FREE_FAILURES = 5
FIRST_BACKOFF = timedelta(minutes=1)
LONGEST_BACKOFF = timedelta(minutes=15)
ADDRESS_CAP = 20
ADDRESS_WINDOW = timedelta(minutes=15)
MEMORY = timedelta(hours=1)  # failures (and their address hashes) are deleted after this
DEVICE_COOKIE = "surveyapp_device"
DEVICE_COOKIE_AGE = timedelta(days=365)
_DEVICE_SALT = "sign-in device"


class LoginThrottled(Exception):
    """Too many recent failures for this attempt: refuse without checking the password."""

    def __init__(self, retry_after: timedelta):
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the (lower-case) user name, the client's address hash, its device id."""

    username: str
    client: str
    device: str | None = None


def client_fingerprint(address: str | None, secret: str) -> str:
    """HMAC-SHA256 of the client address, so throttling works without storing the address."""
    return hmac.new(secret.encode(), (address or "").encode(), hashlib.sha256).hexdigest()


def new_device_cookie(username: str, secret: str) -> str:
    """A signed device cookie for ``username``, given after a successful sign-in."""
    return _serializer(secret).dumps({"u": username, "d": secrets.token_hex(16)})


def device_of(cookie: str | None, username: str, secret: str) -> str | None:
    """The device id in a valid, unexpired device cookie issued for ``username``; else None."""
    if not cookie:
        return None
    try:
        payload = _serializer(secret).loads(cookie, max_age=DEVICE_COOKIE_AGE.total_seconds())
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("u") != username:
        return None
    device = payload.get("d")
    return device if isinstance(device, str) and len(device) == 32 else None


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_DEVICE_SALT)


def wait_before(attempt: Attempt, now: datetime) -> timedelta | None:
    """How long ``attempt`` must still wait, or None when it may be checked now."""
    forget_old(now)
    waits = [_backoff(_failure_times(_own_failures(attempt), now - MEMORY), now)]
    if attempt.device is None:
        waits.append(_address_wait(attempt.client, now))
    waits = [wait for wait in waits if wait is not None and wait > timedelta(0)]
    return max(waits) if waits else None


def record_failure(attempt: Attempt, now: datetime) -> None:
    db.session.add(LoginFailure(username=attempt.username[:64], client_hash=attempt.client,
                                device=attempt.device, failed_at=now))
    db.session.flush()


def forget_failures(attempt: Attempt) -> None:
    """After a successful sign-in: this user name's failures from this client or device."""
    db.session.execute(sa.delete(LoginFailure).where(*_own_failures(attempt)))


def forget_old(now: datetime) -> None:
    """Delete failures older than MEMORY: no address hash is kept longer than that."""
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at < now - MEMORY))


def _own_failures(attempt: Attempt) -> list:
    if attempt.device is not None:
        return [LoginFailure.device == attempt.device]
    return [LoginFailure.username == attempt.username, LoginFailure.client_hash == attempt.client,
            LoginFailure.device.is_(None)]


def _failure_times(conditions: list, since: datetime) -> list[datetime]:
    query = sa.select(LoginFailure.failed_at).where(*conditions, LoginFailure.failed_at >= since)
    return sorted(as_utc(moment) for moment in db.session.scalars(query))


def _backoff(times: list[datetime], now: datetime) -> timedelta | None:
    if len(times) < FREE_FAILURES:
        return None
    delay = min(FIRST_BACKOFF * 2 ** (len(times) - FREE_FAILURES), LONGEST_BACKOFF)
    return times[-1] + delay - now


def _address_wait(client: str, now: datetime) -> timedelta | None:
    times = _failure_times([LoginFailure.client_hash == client, LoginFailure.device.is_(None)],
                           now - ADDRESS_WINDOW)
    if len(times) < ADDRESS_CAP:
        return None
    return times[len(times) - ADDRESS_CAP] + ADDRESS_WINDOW - now  # when one drops out
