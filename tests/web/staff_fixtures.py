"""Builders for the accounts, admin, bureau and quality tests: geography, waves, responses, users."""
from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta

from flask import g
from flask.testing import FlaskClient

from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.models.survey import Answer, District, QuestionnaireVersion, Response, Street, Wave
from surveyapp.services.accounts import hash_password

PASSWORD = "correct horse battery"
OWN, OTHER = "310109", "310110"
T0 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


@functools.cache
def password_hash() -> str:
    """One argon2 hash for the whole session: hashing costs ~0.2 s on purpose."""
    return hash_password(PASSWORD)


def make_geography() -> dict[str, District]:
    districts = {
        OWN: District(code=OWN, name_zh="虹口区", name_en="Hongkou"),
        OTHER: District(code=OTHER, name_zh="杨浦区", name_en="Yangpu"),
    }
    db.session.add_all(districts.values())
    db.session.add_all([
        Street(code=f"{OWN}001", district_code=OWN, name_zh="欧阳路街道", name_en="Ouyanglu"),
        Street(code=f"{OWN}002", district_code=OWN, name_zh="曲阳路街道", name_en="Quyanglu"),
        Street(code=f"{OTHER}001", district_code=OTHER, name_zh="定海路街道", name_en="Dinghailu"),
    ])
    db.session.flush()
    return districts


def make_wave(label: str = "2024", open_now: bool = True) -> Wave:
    version = db.session.query(QuestionnaireVersion).first()
    if version is None:
        version = QuestionnaireVersion(key="citizen", version="1", content_hash=uuid.uuid4().hex,
                                       source_text="{}", title_zh="市民质量满意度", title_en="Citizen")
    now = datetime.now(UTC)
    opens = now - timedelta(days=1) if open_now else now - timedelta(days=30)
    wave = Wave(label=label, questionnaire_version=version, opens_at=opens,
                closes_at=opens + timedelta(days=10 if open_now else 5), mode="open",
                districts=list(db.session.query(District).order_by(District.code)))
    db.session.add(wave)
    db.session.flush()
    return wave


def add_response(wave: Wave, answers: dict[str, int], *, district: str = OWN,
                 street: str | None = None, duration: int | None = 300, minute: int = 0,
                 sex: str = "F", age_group: str = "30-44") -> Response:
    response = Response(
        id=str(uuid.uuid4()), wave_id=wave.id, questionnaire_hash="h", district_code=district,
        street_code=street or f"{district}001", sex=sex, age_group=age_group,
        residence_years="5+", language="zh", channel="web",
        submitted_at=T0 + timedelta(minutes=minute), duration_seconds=duration,
        answers=[Answer(item_id=item, value=value) for item, value in answers.items()],
    )
    db.session.add(response)
    db.session.flush()
    return response


def make_user(role: str, districts: list[str] = (), username: str | None = None) -> User:
    user = User(username=username or f"{role}-{uuid.uuid4().hex[:6]}", password_hash=password_hash(),
                role=role, districts=[db.session.get(District, code) for code in districts])
    db.session.add(user)
    db.session.flush()
    return user


def login_as(client, user: User | None) -> None:
    """Sign ``user`` in by its session cookie (None: stay anonymous), skipping the slow hash."""
    if user is None:
        return
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()  # id and session version
        session["_fresh"] = True


class FreshClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The shared ``app`` fixture keeps one application context open for the whole test, so
    without this ``g`` (where Flask-Login caches the signed-in user and Flask-WTF the CSRF
    token) would carry over from one request, or one client, to the next.
    """

    def open(self, *args, **kwargs):
        for key in ("_login_user", "csrf_token"):
            g.pop(key, None)
        return super().open(*args, **kwargs)


def staff_client(app) -> FreshClient:
    """A client for the staff tests; modules wrap it in their own ``client`` fixture."""
    return FreshClient(app, app.response_class, use_cookies=True)
