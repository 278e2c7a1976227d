"""Staff accounts: creation, argon2 password hashes, sign-in, and ending a user's sessions.

User names are kept in lower case: ``Demo-Admin`` is ``demo-admin``, so no two accounts differ
only in case. Every sign-in attempt that is not throttled costs one argon2 verification, for
unknown, disabled and active accounts alike, so the answer time says nothing about the
account. Throttling rules live in surveyapp.services.login_throttle.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from surveyapp.choices import ROLES
from surveyapp.extensions import db
from surveyapp.models.accounts import User, normal_name
from surveyapp.models.survey import District
from surveyapp.services import audit
from surveyapp.services.login_throttle import (
    Attempt,
    LoginThrottled,
    forget_failures,
    record_failure,
    wait_before,
)
from surveyapp.services.password_policy import password_problem
from surveyapp.services.tokens import revoke_tokens_of

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{3,64}")
ANONYMOUS = "anonymous"  # the audit log's actor for a sign-in attempt that did not succeed

_hasher = PasswordHasher()


class AccountError(ValueError):
    """The account request is invalid; ``problems`` lists each bad field, in Chinese and English."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    username: str, password: str, role: str, district_codes: Iterable[str] = ()
) -> User:
    """Create an account after checking every field; bureau accounts need at least one district."""
    codes = sorted(set(district_codes))
    problems = _name_problems(username)
    problems += [p for p in [password_problem(password, username)] if p]
    problems += _role_problems(role, codes)
    districts = _districts(codes, problems)
    if problems:
        raise AccountError(problems)
    user = User(username=normal_name(username), password_hash=hash_password(password),
                role=role, districts=districts)
    db.session.add(user)
    db.session.flush()
    return user


def _name_problems(username: str) -> list[str]:
    if not USERNAME_PATTERN.fullmatch(username or ""):
        return ["用户名：3-64 个字母、数字或 _ . - / username: 3-64 letters, digits, _ . -"]
    taken = find_by_name(username)
    if taken is not None:
        return [(f"用户名 {username} 已存在（不分大小写，{taken.username}） / username: "
                 f"{username!r} is already taken (case does not count: {taken.username!r})")]
    return []


def _role_problems(role: str, codes: list[str]) -> list[str]:
    problems = []
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


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """A new password; every session and API token of the user ends with the old one."""
    problem = password_problem(password, user.username)
    if problem:
        raise AccountError([problem])
    user.password_hash = hash_password(password)
    end_sessions(user, actor, "password changed")


def set_active(user: User, active: bool, actor: User | None = None) -> None:
    """Enable or disable an account; disabling ends its sessions and revokes its tokens."""
    user.active = active
    if not active:
        end_sessions(user, actor, "account disabled")
    db.session.flush()


def set_role(user: User, role: str, district_codes: Iterable[str] = (),
             actor: User | None = None) -> None:
    """A new role (and districts); the user signs in again, and needs new API tokens."""
    codes = sorted(set(district_codes))
    problems = _role_problems(role, codes)
    districts = _districts(codes, problems)
    if problems:
        raise AccountError(problems)
    user.role, user.districts = role, districts
    end_sessions(user, actor, "role changed")


def end_sessions(user: User, actor: User | None, why: str) -> None:
    """End every session of ``user`` (its session version goes up) and revoke its tokens.

    Each revoked token gets an audit entry saying why; the caller records its own action.
    """
    user.session_version += 1
    for token in revoke_tokens_of(user):
        audit.record(actor, "token.revoke", f"token:{token.id}", f"user:{user.username}: {why}")
    db.session.flush()


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.username)))


def find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_by_name(username: str) -> User | None:
    """The account named ``username``, whatever the case it is typed in."""
    return db.session.scalar(sa.select(User).where(User.username == normal_name(username)))


def authenticate(username: str, password: str, client: str, device: str | None = None,
                 now: datetime | None = None) -> User | None:
    """The active user with these credentials, or None; the attempt is audited either way.

    ``client`` is the address hash and ``device`` the id of a device cookie issued for this
    user name (surveyapp.services.login_throttle). Raises LoginThrottled, without checking the
    password, while the attempt must wait. Otherwise exactly one argon2 verification runs,
    against the account's hash or a dummy one, so timing does not tell accounts apart.
    """
    now = now or datetime.now(UTC)
    attempt = Attempt(normal_name(username), client, device)
    user = find_by_name(username)
    target = f"user:{user.username}" if user is not None else "user:?"  # typed names stay out
    wait = wait_before(attempt, now)
    if wait is not None:
        audit.record(None, "auth.login_failed", target, "throttled", actor_name=ANONYMOUS)
        raise LoginThrottled(wait)
    matches = _verify(user.password_hash if user is not None else _dummy_hash(_hasher), password)
    if user is not None and user.active and matches:
        _rehash_if_needed(user, password)
        forget_failures(attempt)
        audit.record(user, "auth.login", target)
        return user
    reason = ("unknown user name" if user is None else
              "account disabled" if not user.active else "wrong password")
    record_failure(attempt, now)
    audit.record(None, "auth.login_failed", target, reason, actor_name=ANONYMOUS)
    return None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _rehash_if_needed(user: User, password: str) -> None:
    """Keep the stored hash at today's argon2 parameters (checked only after a success)."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash with the same parameters as real ones, checked when there is no account."""
    return hasher.hash("not a password anyone has")
