"""Administration pages, driven the way an administrator uses them: forms with CSRF tokens."""
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, User
from surveyapp.models.margins import MarginSet
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import InvitationCode, QuestionnaireVersion, Wave, as_utc
from surveyapp.services.catalog import sync_catalog
from surveyapp.services.waves import create_wave
from tests.web.staff_fixtures import add_response, login_as, make_user, staff_client

HONGKOU = "310109"
QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.fixture
def client(app):
    return staff_client(app)


@pytest.fixture
def admin(app, client):
    sync_catalog(QUESTIONNAIRES)
    user = make_user("admin", username="chen")
    db.session.commit()
    login_as(client, user)
    return user


def citizen() -> QuestionnaireVersion:
    return db.session.scalar(sa.select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == "citizen"))


def wave(mode="open", opens_in=-1, closes_in=10) -> Wave:
    now = datetime.now(UTC)
    made = create_wave("2024", citizen(), [HONGKOU, "310110"], now + timedelta(days=opens_in),
                       now + timedelta(days=closes_in), mode)
    db.session.commit()
    return made


def post(client, url, data, **kwargs):
    page = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def audit_actions() -> list[tuple[str, str]]:
    return [(e.actor_name, e.action) for e in db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id))]


def test_dashboard_lists_waves_with_their_actions(client, admin):
    wave()
    page = client.get("/admin/").get_data(as_text=True)
    assert "2024" in page and "进行中 open" in page and "立即结束 Close now" in page


def test_create_wave(client, admin):
    response = post(client, "/admin/waves/new", {
        "label": "2025", "questionnaire": citizen().id, "districts": [HONGKOU, "310110"],
        "opens_at": "2025-05-01T00:00", "closes_at": "2025-06-01T00:00", "mode": "invitation"})
    assert response.status_code == 302
    made = db.session.scalar(sa.select(Wave))
    assert (made.label, made.mode, [d.code for d in made.districts]) == \
        ("2025", "invitation", [HONGKOU, "310110"])
    assert audit_actions() == [("chen", "wave.create")]


def test_create_wave_shows_what_is_wrong(client, admin):
    response = post(client, "/admin/waves/new", {
        "label": "2025", "questionnaire": citizen().id, "districts": [HONGKOU],
        "opens_at": "2025-06-01T00:00", "closes_at": "2025-05-01T00:00", "mode": "open"})
    assert response.status_code == 200
    assert "closes_at: must be later than opens_at" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Wave)) == 0


def test_close_and_reopen_a_wave(client, admin):
    made = wave()
    post(client, f"/admin/waves/{made.id}/close", {})
    db.session.refresh(made)
    assert made.status() == "closed"
    post(client, f"/admin/waves/{made.id}/open", {"closes_at": "2099-01-01T00:00"})
    db.session.refresh(made)
    assert made.status() == "open"
    assert as_utc(made.closes_at) == datetime(2098, 12, 31, 16, tzinfo=UTC)  # typed in Shanghai
    assert audit_actions() == [("chen", "wave.close"), ("chen", "wave.open")]


def test_open_a_scheduled_wave_now(client, admin):
    made = wave(opens_in=5, closes_in=20)
    post(client, f"/admin/waves/{made.id}/open", {"closes_at": "2099-01-01T00:00"})
    db.session.refresh(made)
    assert made.status() == "open"


# ------------------------------------------------------- times: typed and shown in local time

def new_wave_form(opens_at: str, closes_at: str) -> dict:
    return {"label": "2025", "questionnaire": citizen().id, "districts": [HONGKOU],
            "opens_at": opens_at, "closes_at": closes_at, "mode": "open"}


def test_wave_times_are_typed_and_shown_in_beijing_time(client, admin):
    form = client.get("/admin/waves/new").get_data(as_text=True)
    assert "开始时间 Opens at (北京时间 Beijing time, UTC+08:00)" in form
    response = post(client, "/admin/waves/new",
                    new_wave_form("2025-03-01T00:00", "2025-04-01T00:00"))
    assert response.status_code == 302
    made = db.session.scalar(sa.select(Wave))
    assert as_utc(made.opens_at) == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert as_utc(made.closes_at) == datetime(2025, 3, 31, 16, tzinfo=UTC)
    for page in (client.get("/admin/").get_data(as_text=True),
                 client.get(f"/admin/waves/{made.id}/progress").get_data(as_text=True)):
        assert "2025-03-01 00:00" in page and "2025-04-01 00:00" in page
        assert "北京时间 Beijing time, UTC+08:00" in page and "16:00" not in page


def test_wave_times_follow_the_configured_zone(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Europe/London")  # summer: +01:00
    assert "Opens at (Europe/London, UTC+00:00/+01:00)" in \
        client.get("/admin/waves/new").get_data(as_text=True)
    post(client, "/admin/waves/new", new_wave_form("2025-07-01T00:00", "2025-12-01T00:00"))
    made = db.session.scalar(sa.select(Wave))
    assert as_utc(made.opens_at) == datetime(2025, 6, 30, 23, tzinfo=UTC)
    assert as_utc(made.closes_at) == datetime(2025, 12, 1, tzinfo=UTC)  # winter: +00:00
    page = client.get("/admin/").get_data(as_text=True)
    assert "2025-07-01 00:00 UTC+01:00" in page and "2025-12-01 00:00 UTC+00:00" in page


def test_a_local_time_the_clocks_skip_is_refused(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Europe/London")
    response = post(client, "/admin/waves/new",
                    new_wave_form("2025-03-30T01:30", "2025-04-30T00:00"))
    assert response.status_code == 200
    assert "2025-03-30 01:30 does not exist in Europe/London" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Wave)) == 0


def test_a_refused_wave_form_keeps_what_was_typed(client, admin):
    response = post(client, "/admin/waves/new",
                    new_wave_form("2025-03-01T00:00", "2025-02-01T00:00"))
    page = response.get_data(as_text=True)
    assert "closes_at: must be later than opens_at" in page
    assert 'value="2025-03-01T00:00"' in page and 'value="2025-02-01T00:00"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Wave)) == 0


def test_opening_a_wave_reports_the_closing_time_in_local_time(client, admin):
    made = wave(opens_in=5, closes_in=20)
    response = post(client, f"/admin/waves/{made.id}/open", {"closes_at": "2099-01-01T00:00"},
                    follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "至 until 2099-01-01 00:00 (北京时间 Beijing time, UTC+08:00)" in page
    assert db.session.scalar(sa.select(AuditLog.reason)) == "until 2099-01-01 00:00 UTC+08:00"
    assert "until 2099-01-01 00:00 UTC+08:00" in client.get("/admin/audit").get_data(as_text=True)


def test_opening_a_wave_with_a_bad_closing_time_changes_nothing(client, admin):
    made = wave(opens_in=5, closes_in=20)
    before = (made.opens_at, made.closes_at)
    for typed, said in [("", "required"), ("tomorrow", "expected a date and time"),
                        ("2000-01-01T00:00", "must be in the future")]:
        response = post(client, f"/admin/waves/{made.id}/open", {"closes_at": typed},
                        follow_redirects=True)
        assert said in response.get_data(as_text=True)
        db.session.refresh(made)
        assert (made.opens_at, made.closes_at) == before
    assert audit_actions() == []


def test_quality_review_shows_submission_times_in_local_time(client, admin):
    made = wave()
    target = add_response(made, {"p_food": 5})  # submitted 2024-06-01 08:00 UTC
    db.session.commit()
    post(client, f"/admin/waves/{made.id}/quality/exclude",
         {"response_id": target.id, "reason": "test"})
    page = client.get(f"/admin/waves/{made.id}/quality").get_data(as_text=True)
    assert "2024-06-01 16:00" in page
    assert "提交 Submitted<br><small>北京时间 Beijing time, UTC+08:00</small>" in page


def test_questionnaire_upload_lists_every_problem(client, admin):
    text = (QUESTIONNAIRES / "citizen.yaml").read_text(encoding="utf-8")
    broken = text.replace("scale: sat10", "scale: likert7", 1).replace('version: "2024.1"', "version:")
    response = post(client, "/admin/questionnaires",
                    {"file": (io.BytesIO(broken.encode()), "broken.yaml")},
                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "未保存：发现 2 个问题" in page
    assert "likert7" in page and "version" in page


def test_questionnaire_upload_stores_a_new_version(client, admin):
    text = (QUESTIONNAIRES / "citizen.yaml").read_text(encoding="utf-8")
    edited = text.replace('version: "2024.1"', 'version: "2025.1"')
    response = post(client, "/admin/questionnaires",
                    {"file": (io.BytesIO(edited.encode()), "citizen.yaml")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    versions = db.session.scalars(sa.select(QuestionnaireVersion.version).where(
        QuestionnaireVersion.key == "citizen")).all()
    assert sorted(versions) == ["2024.1", "2025.1"]
    assert "2025.1" in client.get("/admin/questionnaires").get_data(as_text=True)


def upload_margins(client, text: str):
    return post(client, "/admin/margins", {
        "name": "census 2020", "description": "", "questionnaire": citizen().id,
        "file": (io.BytesIO(text.encode()), "margins.csv")}, content_type="multipart/form-data")


def test_margins_upload_lists_problems_by_line(client, admin):
    response = upload_margins(client, "district,variable,category,count\n"
                                      "310109,sex,male,100\n310109,sex,other,120\n"
                                      "310109,age_group,18-29,-5\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 3 行" in page and "other" in page and "第 4 行" in page and "-5" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MarginSet)) == 0


def test_margins_upload_stores_a_valid_file(client, admin):
    response = upload_margins(client, "district,variable,category,count\n"
                                      "310109,sex,male,100\n310109,sex,female,120\n")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(MarginSet.name)) == "census 2020"
    assert audit_actions() == [("chen", "margins.upload")]


def test_invitation_codes_download_as_csv(client, admin):
    made = wave(mode="invitation")
    response = post(client, f"/admin/waves/{made.id}/invitations",
                    {"district": HONGKOU, "street": "", "count": "3"})
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["wave", "district", "street", "code", "url"] and len(rows) == 4
    assert all(re.fullmatch(r"[2-9A-Z]{5}-[2-9A-Z]{5}", row[3]) for row in rows[1:])
    assert [row[4] for row in rows[1:]] == [f"http://localhost/s/{made.id}#code={row[3]}"
                                            for row in rows[1:]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationCode)) == 3
    assert audit_actions() == [("chen", "invitations.generate")]


def test_invitation_codes_refused_for_an_open_link_wave(client, admin):
    made = wave(mode="open")
    response = post(client, f"/admin/waves/{made.id}/invitations",
                    {"district": HONGKOU, "street": "", "count": "3"})
    assert response.status_code == 200 and "not by invitation" in response.get_data(as_text=True)


def test_progress_counts_per_district_and_street(client, admin):
    made = wave()
    for minute in range(3):
        add_response(made, {"p_food": 8}, district=HONGKOU, street="310109001", minute=minute)
    page = client.get(f"/admin/waves/{made.id}/progress").get_data(as_text=True)
    street_row = re.search(r"310109001[^<]*</td><td>(\d+)</td>", page)
    assert street_row.group(1) == "3"
    assert "310110" in page  # a district with nothing yet is listed too


def test_quality_review_exclude_and_reinclude_with_reasons(client, admin):
    made = wave()
    items = ["p_food", "p_goods", "s_admin", "s_safety", "h_housing"]
    for n in range(12):
        add_response(made, {item: 1 + (n + i) % 9 for i, item in enumerate(items)},
                     minute=n, age_group=f"g{n}")
    liner = add_response(made, dict.fromkeys(items, 10), minute=20, age_group="s")
    db.session.commit()
    post(client, f"/admin/waves/{made.id}/quality/detect", {})
    flag = db.session.scalar(sa.select(QualityFlag))
    assert (flag.response_id, flag.kind) == (liner.id, "straightliner")
    page = client.get(f"/admin/waves/{made.id}/quality").get_data(as_text=True)
    assert liner.id in page and "直线作答" in page

    post(client, f"/admin/quality/flags/{flag.id}/exclude", {"reason": ""})
    db.session.refresh(flag)
    assert not flag.excluded  # no reason, no change
    post(client, f"/admin/quality/flags/{flag.id}/exclude", {"reason": "all tens"})
    post(client, f"/admin/quality/flags/{flag.id}/include", {"reason": "checked by phone"})
    db.session.refresh(flag)
    assert not flag.excluded
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "all tens" in log and "checked by phone" in log and "chen" in log
    assert audit_actions() == [("chen", "quality.detect"), ("chen", "response.exclude"),
                               ("chen", "response.include")]


def test_manual_exclusion_by_response_id(client, admin):
    made = wave()
    target = add_response(made, {"p_food": 5})
    db.session.commit()
    post(client, f"/admin/waves/{made.id}/quality/exclude",
         {"response_id": target.id, "reason": "interviewer typed it twice"})
    flag = db.session.scalar(sa.select(QualityFlag))
    assert (flag.response_id, flag.kind, flag.excluded) == (target.id, "manual", True)


def test_admin_creates_and_disables_an_account(client, admin):
    response = post(client, "/admin/users", {"username": "hk-bureau", "role": "bureau",
                                             "districts": [HONGKOU],
                                             "password": "a long enough secret"})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "hk-bureau"))
    assert [d.code for d in user.districts] == [HONGKOU]
    post(client, f"/admin/users/{user.id}/disable", {})
    db.session.refresh(user)
    assert not user.active
    assert audit_actions() == [("chen", "user.create"), ("chen", "user.disable")]


def test_account_form_lists_every_problem(client, admin):
    response = post(client, "/admin/users", {"username": "x", "role": "bureau",
                                             "password": "short"})
    page = response.get_data(as_text=True)
    assert "username: 3-64" in page and "password: at least 10" in page
    assert "a bureau account needs a district" in page


def test_admin_cannot_disable_itself(client, admin):
    post(client, f"/admin/users/{admin.id}/disable", {})
    db.session.refresh(admin)
    assert admin.active


def test_account_form_says_why_a_password_is_too_easy_to_guess(client, admin):
    response = post(client, "/admin/users", {"username": "li-analyst", "role": "analyst",
                                             "password": "1234567890"})
    page = response.get_data(as_text=True)
    assert "太容易被猜到：这是最常见的 100 个密码之一。" in page
    assert "password: too easy to guess: This is a top-100 common password." in page
    assert db.session.scalar(sa.select(User).where(User.username == "li-analyst")) is None
