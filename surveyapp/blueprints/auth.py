"""Staff sign-in and sign-out (residents never sign in)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

import surveyapp.auth  # noqa: F401  (registers the user loader)
from surveyapp.extensions import db
from surveyapp.models.accounts import normal_name
from surveyapp.services import audit
from surveyapp.services.accounts import authenticate, end_sessions
from surveyapp.services.login_throttle import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_AGE,
    LoginThrottled,
    client_fingerprint,
    device_of,
    new_device_cookie,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码 Password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    secret = current_app.config["SECRET_KEY"]
    client = client_fingerprint(request.remote_addr, secret)
    device = device_of(request.cookies.get(DEVICE_COOKIE), normal_name(form.username.data),
                       secret)
    try:
        user = authenticate(form.username.data, form.password.data, client, device)
    except LoginThrottled as throttled:
        db.session.commit()  # the audit entry
        return _throttled(form, throttled)
    db.session.commit()
    if user is None:
        flash("用户名或密码错误 / Wrong user name or password.", "error")
        return render_template("auth/login.html", form=form), 401
    _start_session(user)
    response = redirect(_safe_next() or home_for(user))
    response.set_cookie(DEVICE_COOKIE, new_device_cookie(user.username, secret),
                        max_age=int(DEVICE_COOKIE_AGE.total_seconds()), path=url_for("auth.login"),
                        httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _throttled(form: LoginForm, throttled: LoginThrottled) -> tuple[str, int, dict]:
    minutes = max(1, -(-int(throttled.retry_after.total_seconds()) // 60))  # rounded up
    flash(f"尝试次数过多，请 {minutes} 分钟后再试 / Too many failed attempts; try again in "
          f"{minutes} minute{'s' if minutes > 1 else ''}.", "error")
    return (render_template("auth/login.html", form=form), 429,
            {"Retry-After": str(minutes * 60)})


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Sign out everywhere: every session of this user ends and its API tokens are revoked."""
    user = current_user._get_current_object()
    end_sessions(user, user, "signed out")
    audit.record(user, "auth.logout", f"user:{user.username}")
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def home_for(user) -> str:
    return url_for("admin.index") if user.role == "admin" else url_for("bureau.index")


def _start_session(user) -> None:
    """A fresh session on sign-in (no fixation), keeping only the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)


def _safe_next() -> str | None:
    """The ``next`` page if it is a path on this site; never an absolute or scheme-relative URL."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc \
            or "\\" in target:
        return None
    return target


@bp.app_context_processor
def staff_user():
    return {"staff_user": current_user}
