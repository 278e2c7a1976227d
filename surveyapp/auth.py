"""Login sessions, role checks and district scoping shared by every protected view.

Anonymous visitors are sent to the login page; a signed-in user without the role gets 403; a
user asking for a district outside their scope gets 404, the same as a district that does not
exist, so that URLs reveal nothing.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from flask import abort
from flask_login import current_user

from surveyapp.extensions import db, login_manager
from surveyapp.models.accounts import User
from surveyapp.models.survey import District
from surveyapp.services.access import can_see_district

F = TypeVar("F", bound=Callable)
DISTRICT_CODE = re.compile(r"[A-Za-z0-9_-]{1,12}")

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录 / Please sign in first."
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The active user a session names, if the session's version is still the user's.

    The session holds "<id>:<version>" (User.get_id); signing out, a new password or role,
    or disabling raise the version, so every session signed in before is refused here.
    """
    user_id, _colon, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def role_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users with one of ``roles`` reach the view."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def district_or_404(code: str) -> District:
    """The district, if it exists and the current user may see it; otherwise 404."""
    if not DISTRICT_CODE.fullmatch(code):  # e.g. a NUL byte, which PostgreSQL refuses
        abort(404)
    district = db.session.get(District, code)
    if district is None or not can_see_district(current_user, code):
        abort(404)
    return district
