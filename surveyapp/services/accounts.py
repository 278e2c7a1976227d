"""Staff accounts: creation, argon2 password hashes, and login throttling kept in the database.

Throttling lives in the database (not in process memory) so that it holds across every worker
process. Failures are keyed by user name and by an HMAC of the client address: no raw address
is ever stored.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from surveyapp.extensions import db
from surveyapp.models.accounts import ROLES, LoginFailure, User
from surveyapp.models.survey import District

MAX_FAILURES = 5  # per user name and client, within the window
MAX_FAILURES_WIDE = 20  # per user name from anywhere, or per client over any user names
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{3,64}")

_hasher = PasswordHasher()


class AccountError(ValueError):
    """The account request is invalid; ``problems`` lists each bad field, in Chinese and English."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class LoginThrottled(Exception):
    """Too many recent failures for this user name or client: refuse without checking."""


def client_fingerprint(address: str | None, secret: str) -> str:
    """HMAC-SHA256 of the client address, so throttling works without storing the address."""
    return hmac.new(secret.encode(), (address or "").encode(), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    username: str, password: str, role: str, district_codes: Iterable[str] = ()
) -> User:
    """Create an account after checking every field; bureau accounts need at least one district."""
    codes = sorted(set(district_codes))
    problems = _user_problems(username, password, role, codes)
    districts = _districts(codes, problems)
    if problems:
        raise AccountError(problems)
    user = User(username=username, password_hash=hash_password(password), role=role,
                districts=districts)
    db.session.add(user)
    db.session.flush()
    return user


def _user_problems(username: str, password: str, role: str, codes: list[str]) -> list[str]:
    problems = []
    if not USERNAME_PATTERN.fullmatch(username or ""):
        problems.append("用户名：3-64 个字母、数字或 _ . - / username: 3-64 letters, digits, _ . -")
    elif db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        problems.append(f"用户名 {username} 已存在 / username: {username!r} is already taken")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(f"密码：至少 {MIN_PASSWORD_LENGTH} 个字符 / password: at least "
                        f"{MIN_PASSWORD_LENGTH} characters")
    if role not in ROLES:
        problems.append(f"角色：应为 {', '.join(ROLES)} / role: expected one of {', '.join(ROLES)}")
    elif role == "bureau" and not codes:
        problems.append("区：区局账号至少需要一个区 / district: a bureau account needs a district")
    elif role != "bureau" and codes:
        problems.append("区：只有区局账号按区限定 / district: only bureau accounts are limited "
                        "to districts")
    return problems


def _districts(codes: list[str], problems: list[str]) -> list[District]:
    found = list(db.session.scalars(sa.select(District).where(District.code.in_(codes))))
    unknown = sorted(set(codes) - {d.code for d in found})
    if unknown:
        problems.append(f"区：未知的区代码 {', '.join(unknown)} / district: unknown code(s) "
                        f"{', '.join(unknown)}")
    return found


def set_password(user: User, password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError([(f"密码：至少 {MIN_PASSWORD_LENGTH} 个字符 / password: at least "
                            f"{MIN_PASSWORD_LENGTH} characters")])
    user.password_hash = hash_password(password)
    db.session.flush()


def set_active(user: User, active: bool) -> None:
    user.active = active
    db.session.flush()


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.username)))


def find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_by_name(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def authenticate(username: str, password: str, client: str,
                 now: datetime | None = None) -> User | None:
    """The active user with these credentials, or None (and the failure is recorded).

    Raises LoginThrottled, without checking the password, after too many recent failures.
    """
    now = now or datetime.now(UTC)
    if is_throttled(username, client, now):
        raise LoginThrottled(username)
    user = find_by_name(username)
    if user is not None and user.active and _verify(user, password):
        db.session.execute(sa.delete(LoginFailure).where(
            LoginFailure.username == username, LoginFailure.client_hash == client))
        return user
    if user is None:
        _verify_nothing(password)  # same time as a wrong password: user names do not leak
    _record_failure(username, client, now)
    return None


def is_throttled(username: str, client: str, now: datetime) -> bool:
    since = now - FAILURE_WINDOW
    recent = sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.failed_at >= since)
    pair = db.session.scalar(recent.where(LoginFailure.username == username,
                                          LoginFailure.client_hash == client))
    by_name = db.session.scalar(recent.where(LoginFailure.username == username))
    by_client = db.session.scalar(recent.where(LoginFailure.client_hash == client))
    return pair >= MAX_FAILURES or max(by_name, by_client) >= MAX_FAILURES_WIDE


def _record_failure(username: str, client: str, now: datetime) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at < now - 4 * FAILURE_WINDOW))
    db.session.add(LoginFailure(username=username[:64], client_hash=client, failed_at=now))
    db.session.flush()


def _verify(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")


def _verify_nothing(password: str) -> None:
    try:
        _hasher.verify(_dummy_hash(), password)
    except VerificationError:
        pass
