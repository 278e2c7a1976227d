"""Every endpoint x every role x every district: who gets in, who gets 401/403/404, and which
downloads are audited.

Every rule of ``app.url_map`` must be listed in ENDPOINTS with who may reach it (a row of
EXPECTED) and what it lets out, so a new route fails test_every_endpoint_is_classified until
someone decides both. Report building is replaced by a stand-in that echoes the district asked
for: this test is about who may ask. What the real outputs show each role is tested in
tests/web/test_disclosure.py (runs, microdata, audit), tests/web/test_reports.py (suppression in
the report files) and tests/web/test_bureau_pages.py (the pages).
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, User
from surveyapp.models.jobs import Job
from surveyapp.models.quality import QualityFlag
from surveyapp.models.runs import EstimateRun, ResponseManifest
from surveyapp.models.survey import QuestionnaireVersion
from surveyapp.services import report_cache, small_area_api
from surveyapp.services.catalog import sync_catalog
from surveyapp.services.tokens import create_token
from surveyapp.services.waves import create_wave
from tests.reports.sample import sample_report
from tests.web.staff_fixtures import T0, add_response, login_as, make_user, staff_client

OWN, OTHER, UNKNOWN = "310109", "310110", "999999"
ROLES = ("anonymous", "bureau-own", "bureau-other", "analyst", "admin")
PROTECTED_PREFIXES = ("/admin", "/bureau", "/api")
QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@dataclasses.dataclass(frozen=True)
class Access:
    """Who may reach an endpoint (``kind``, a row of EXPECTED) and what of the responses it
    lets out (``output``): None, "page" and "chart" (report content, suppressed by
    surveyapp.services.disclosure for every reader), "report" (a PDF/XLSX/CSV file), "run"
    (estimates: suppressed for bureaus), "small_area" (street model figures: a bureau gets
    what its report publishes) or "microdata" (analysts and admins only). Reports, runs,
    small-area estimates and microdata are downloads: each is recorded in the audit log."""

    kind: str
    output: str | None = None


# Every endpoint of the application. A new route fails test_every_endpoint_is_classified until
# it is listed here with who may reach it and what it lets out.
ENDPOINTS = {
    "static": Access("public"),
    "survey.index": Access("public"),
    "survey.form": Access("public"),
    "survey.thanks": Access("public"),
    "survey.enter_code": Access("public"),
    "health.healthz": Access("public"),
    "auth.login": Access("public"),
    "auth.logout": Access("public"),
    "api.openapi": Access("public"),
    "admin.index": Access("admin"),
    "admin.audit_log": Access("admin"),
    "admin.new_wave": Access("admin"),
    "admin.open_wave_now": Access("admin"),
    "admin.close_wave_now": Access("admin"),
    "admin.pin_margins": Access("admin"),
    "admin.margins": Access("admin"),
    "admin.questionnaires": Access("admin"),
    "admin.invitations": Access("admin"),
    "admin_prints.posters": Access("admin"),
    "admin.wave_progress": Access("admin"),
    "admin.wave_quality": Access("admin"),
    "admin.detect_quality": Access("admin"),
    "admin.exclude_response": Access("admin"),
    "admin.exclude_selected": Access("admin"),
    "admin.questionnaire_xlsform": Access("admin"),
    "admin.set_flag": Access("admin"),
    "admin.users": Access("admin"),
    "admin.api_tokens": Access("admin"),
    "admin.revoke_api_token": Access("admin"),
    "admin.set_user_active": Access("admin"),
    "admin_composite.index": Access("admin"),
    "admin_composite.upload": Access("admin"),
    "admin_composite.chart": Access("admin-composite"),
    "admin_plans.wave_plan": Access("admin"),
    "admin_plans.plan_codes": Access("admin"),
    "bureau.index": Access("staff"),
    "bureau.district_page": Access("district", "page"),
    "bureau.district_chart": Access("district", "chart"),
    "bureau.district_download": Access("district", "report"),
    "bureau.city_page": Access("city", "page"),
    "bureau.city_chart": Access("city", "chart"),
    "bureau.city_download": Access("city", "report"),
    "api.waves": Access("api"),
    "api.questionnaires": Access("api"),
    "api.questionnaire_xlsform": Access("api"),
    "api.runs": Access("api"),
    "api.submit_run": Access("api-submit"),  # a job; its run is let out by api.run_detail
    "api.run_detail": Access("api-own", "run"),
    "api.run_results": Access("api-own", "run"),
    "api.rerun_run": Access("api-rerun"),  # a job; its comparison is let out by api.job_detail
    "api.job_detail": Access("api-job"),
    "api.job_file": Access("api-job-file"),
    "api.microdata": Access("api-analysts", "microdata"),
    "api.small_area": Access("api-district", "small_area"),
    "api.latent_index": Access("api-analysts", "run"),  # bureaus: ?district= of their own
    "api.composite": Access("api-composite"),
    "api.wave_plan": Access("api-own"),  # 404 for a bureau none of whose districts it covers
}
# Endpoints that take the district as a query parameter (?district=...), not in the path.
QUERY_DISTRICT = {"api.small_area"}

# What each role gets from each kind: "login" (redirect to sign-in), "401", "403", "404",
# "400" (reached the handler: the matrix's empty body is refused as a bad spec), "ok", or
# "scoped" ("ok" for a district the role may see, else "404", as if it did not exist).
EXPECTED = {
    "admin": {"anonymous": "login", "bureau-own": "403", "bureau-other": "403",
              "analyst": "403", "admin": "ok"},
    "staff": {"anonymous": "login", "bureau-own": "ok", "bureau-other": "ok", "analyst": "ok",
              "admin": "ok"},
    "district": {"anonymous": "login", "bureau-own": "scoped", "bureau-other": "scoped",
                 "analyst": "scoped", "admin": "scoped"},
    "city": {"anonymous": "login", "bureau-own": "403", "bureau-other": "403", "analyst": "ok",
             "admin": "ok"},
    "api": {"anonymous": "401", "bureau-own": "ok", "bureau-other": "ok", "analyst": "ok",
            "admin": "ok"},
    "api-own": {"anonymous": "401", "bureau-own": "ok", "bureau-other": "404", "analyst": "ok",
                "admin": "ok"},  # a bureau sees only its own runs (the world's run is OWN's)
    # The world's job is an estimate run: it has no file, so even its owner gets 404;
    # tests/web/test_export_jobs.py downloads a real export job's file.
    "api-job-file": {"anonymous": "401", "bureau-own": "404", "bureau-other": "404",
                     "analyst": "404", "admin": "404"},
    "api-job": {"anonymous": "401", "bureau-own": "ok", "bureau-other": "404", "analyst": "404",
                "admin": "404"},  # a job is its submitter's alone (the world's job is OWN's)
    "api-analysts": {"anonymous": "401", "bureau-own": "403", "bureau-other": "403",
                     "analyst": "ok", "admin": "ok"},
    "api-submit": {"anonymous": "401", "bureau-own": "400", "bureau-other": "400",
                   "analyst": "400", "admin": "400"},
    # A run of the caller's (a bureau: its own) reaches the handler, which refuses the world's
    # run's empty spec (422); tests/web/test_api_rerun.py reruns real runs.
    "api-rerun": {"anonymous": "401", "bureau-own": "422", "bureau-other": "404",
                  "analyst": "422", "admin": "422"},
    "api-district": {"anonymous": "401", "bureau-own": "scoped", "bureau-other": "scoped",
                     "analyst": "scoped", "admin": "scoped"},
    # The composite index ranks every district: analysts and admins only. The matrix asks
    # without ?wave= (400 once the role passed) and the world has no indicator set (the
    # admin's chart: 404); tests/web/test_composite.py covers the answers with data.
    "admin-composite": {"anonymous": "login", "bureau-own": "403", "bureau-other": "403",
                        "analyst": "403", "admin": "404"},
    "api-composite": {"anonymous": "401", "bureau-own": "403", "bureau-other": "403",
                      "analyst": "400", "admin": "400"},
}
DOWNLOADS = ("report", "run", "microdata", "small_area")


def protected_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if ENDPOINTS.get(rule.endpoint, Access("unclassified")).kind != "public"]


def kind_of(rule) -> str:
    return ENDPOINTS[rule.endpoint].kind


def test_every_endpoint_is_classified(app):
    unknown = sorted({rule.rule for rule in app.url_map.iter_rules()
                      if rule.endpoint not in ENDPOINTS})
    assert unknown == [], f"add these endpoints to ENDPOINTS with who may reach them: {unknown}"
    assert set(ENDPOINTS) == {rule.endpoint for rule in app.url_map.iter_rules()}, \
        "ENDPOINTS lists endpoints the application no longer has"
    assert {access.kind for access in ENDPOINTS.values()} <= {"public", *EXPECTED}
    assert all(set(row) == set(ROLES) for row in EXPECTED.values())


def test_staff_endpoints_sit_under_the_protected_prefixes(app):
    for rule in app.url_map.iter_rules():
        kind = ENDPOINTS[rule.endpoint].kind
        assert (kind != "public") == rule.rule.startswith(PROTECTED_PREFIXES) \
            or rule.endpoint == "api.openapi", rule.rule
        assert kind.startswith("api") == rule.endpoint.startswith("api.") \
            or rule.endpoint == "api.openapi", rule.rule


# --------------------------------------------------------------------------------- world

@dataclasses.dataclass
class World:
    users: dict
    tokens: dict
    wave_both: object
    wave_own_only: object
    flag_id: int
    run_id: int
    job_id: int
    victim_id: int
    victim_token_id: int


def fake_report(wave, district, lang, *args, **kwargs):
    """The sample report, relabelled as the district asked for (or the city)."""
    report = sample_report(lang, "district" if district else "city")
    return dataclasses.replace(report, area=f"AREA-{district or 'CITY'}", area_code=district)


@pytest.fixture
def world(app, monkeypatch) -> World:
    monkeypatch.setattr(report_cache, "page_content",
                        lambda wave, district, lang, stored: fake_report(wave, district, lang))
    monkeypatch.setattr(report_cache, "last_page_content", fake_report)
    monkeypatch.setattr(small_area_api, "small_area_document",
                        lambda wave, district, with_model: {"district": district})
    monkeypatch.setattr(report_cache, "serve",
                        lambda wave, district, lang, fmt, *a, **k: report_cache.StoredReport(
                            f"DOCUMENT-{district or 'CITY'}-{fmt}".encode(), "v", T0, 4))
    sync_catalog(QUESTIONNAIRES)
    version = db.session.scalar(sa.select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == "citizen"))
    wave_both = create_wave("2024", version, [OWN, OTHER], T0, T0.replace(year=2099))
    wave_own_only = create_wave("2024-own", version, [OWN], T0, T0.replace(year=2099))
    for wave in (wave_both, wave_own_only):
        for n in range(4):
            add_response(wave, {"p_food": 3 + n, "p_goods": 7}, district=OWN,
                         street=f"{OWN}001", sex="male", age_group="30-44", minute=n)
    response = add_response(wave_both, {"p_food": 5}, district=OTHER, street=f"{OTHER}001",
                            sex="female", age_group="18-29")
    flag = QualityFlag(response_id=response.id, kind="manual", detail="", excluded=False)
    db.session.add(flag)
    users = {"bureau-own": make_user("bureau", [OWN]), "bureau-other": make_user("bureau", [OTHER]),
             "analyst": make_user("analyst"), "admin": make_user("admin"),
             "anonymous": None}
    victim = make_user("bureau", [OWN], username="victim")
    db.session.add(ResponseManifest(data_hash="0" * 64, manifest=b""))
    run = EstimateRun(spec_json="{}", districts_json=json.dumps([OWN]), data_hash="0" * 64,
                      response_count=4, package_version="test",
                      results_json=json.dumps({"estimates": [], "comparisons": []}), created_by=users["bureau-own"].username,
                      user_id=users["bureau-own"].id)
    job = Job(kind="run", params_json="{}", state="done", attempts=1, result="1",
              user_id=users["bureau-own"].id)
    db.session.add_all([run, job])
    db.session.flush()
    tokens = {role: create_token(user.username)[1] for role, user in users.items() if user}
    victim_token, _ = create_token(victim.username)
    db.session.commit()
    return World(users, tokens, wave_both, wave_own_only, flag.id, run.id, job.id, victim.id,
                 victim_token.id)


# ------------------------------------------------------------------------------- requests

def url_for_rule(rule, world: World, district: str) -> str:
    """The rule's URL with a value for each of its variables."""
    values = {
        "wave_id": world.wave_both.id, "district": district, "flag_id": world.flag_id,
        "user_id": world.victim_id, "run_id": world.run_id, "job_id": world.job_id, "label": world.wave_own_only.label,
        "chart_id": "trend", "fmt": "csv", "token_id": world.victim_token_id,
        "version_id": world.wave_both.questionnaire_version_id, "key": "citizen",
        "version": world.wave_both.questionnaire_version.version,
    }
    for name in rule.arguments:
        if name not in values:
            converter = rule._converters[name]
            if not hasattr(converter, "items"):
                pytest.fail(f"{rule.rule}: the matrix has no value for <{name}>; add one")
            values[name] = min(converter.items)
    if rule.endpoint in QUERY_DISTRICT:  # the wave covering both districts, asked for one
        values["label"] = world.wave_both.label
        return rule.build(values, append_unknown=False)[1] + f"?district={district}"
    return rule.build(values, append_unknown=False)[1]


def csrf_token(client) -> str:
    page = client.get("/auth/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def call(client, method: str, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, data={"csrf_token": csrf_token(client)}, headers=headers)


def expected(kind: str, role: str, district: str | None) -> str:
    """What ``role`` should get from an endpoint of ``kind`` (for ``district``, if any)."""
    want = EXPECTED[kind][role]
    if want != "scoped":
        return want
    visible = {"bureau-own": {OWN}, "bureau-other": {OTHER}}.get(role, {OWN, OTHER})
    return "ok" if district in visible else "404"


def outcome(response) -> str:
    if response.status_code == 302 and "/auth/login" in response.location:
        return "login"
    if response.status_code in (200, 201, 302):
        return "ok"
    return str(response.status_code)


def districts_for(rule) -> tuple[str | None, ...]:
    return ((OWN, OTHER, UNKNOWN) if "district" in rule.arguments
            or rule.endpoint in QUERY_DISTRICT else (None,))


@pytest.mark.parametrize("role", ROLES)
def test_matrix(app, world, role):
    client = staff_client(app)
    login_as(client, world.users[role])
    failures = []
    for rule in sorted(protected_rules(app), key=lambda r: r.rule):
        kind = kind_of(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for district in districts_for(rule):
                url = url_for_rule(rule, world, district)
                token = world.tokens.get(role) if kind.startswith("api") else None
                want = expected(kind, role, district)
                response = call(client, method, url, token)
                got = outcome(response)
                response.close()  # streamed downloads hold their file open until closed
                if got != want:
                    failures.append(f"{role} {method} {url}: expected {want}, got {got}")
    assert failures == []


@pytest.mark.parametrize("role", ["anonymous", "bureau-own", "analyst", "admin"])
def test_api_ignores_the_session_cookie(app, world, role):
    """Signed in on the web but without a token, the API still answers 401."""
    client = staff_client(app)
    login_as(client, world.users[role])
    for rule in protected_rules(app):
        if kind_of(rule).startswith("api") and "GET" in rule.methods:
            response = client.get(url_for_rule(rule, world, OWN))
            assert response.status_code == 401, rule.rule
            assert response.is_json


def test_bureau_cannot_reach_another_district_through_parameters(app, world):
    """Query parameters never widen the scope: the path's district, checked, is all that counts."""
    client = staff_client(app)
    login_as(client, world.users["bureau-own"])
    wave = world.wave_both.id
    tricks = f"?district={OTHER}&district_code={OTHER}&area={OTHER}&lang=en"
    page = client.get(f"/bureau/{wave}/{OWN}{tricks}").get_data(as_text=True)
    assert f"AREA-{OWN}" in page and f"AREA-{OTHER}" not in page
    download = client.get(f"/bureau/{wave}/{OWN}/report.pdf{tricks}")
    assert download.data == f"DOCUMENT-{OWN}-pdf".encode()
    for path in (f"/bureau/{wave}/{OTHER}", f"/bureau/{wave}/{OTHER}/report.xlsx",
                 f"/bureau/{wave}/{OTHER}/charts/trend.png", f"/bureau/{wave}/%20{OTHER}",
                 f"/bureau/{wave}/{OTHER}%00", f"/bureau/{wave}/{OWN},{OTHER}",
                 f"/bureau/{wave}/city", f"/bureau/{wave}/city/report.csv"):
        assert client.get(path).status_code in (400, 403, 404), path  # 400: NUL, refused


def test_a_wave_that_does_not_cover_the_district_is_404(app, world):
    client = staff_client(app)
    login_as(client, world.users["analyst"])
    assert client.get(f"/bureau/{world.wave_own_only.id}/{OTHER}").status_code == 404
    assert client.get(f"/bureau/{world.wave_own_only.id}/{OWN}").status_code == 200


def test_bureau_index_lists_only_its_own_districts(app, world):
    client = staff_client(app)
    login_as(client, world.users["bureau-other"])
    page = client.get("/bureau/").get_data(as_text=True)
    assert OTHER in page and OWN not in page


def test_every_staff_form_needs_its_csrf_token(app, world):
    """A POST without the token is refused (400) before any view runs, even for an admin."""
    client = staff_client(app)
    login_as(client, world.users["admin"])
    posts = [rule for rule in app.url_map.iter_rules()
             if "POST" in rule.methods
             and rule.endpoint.split(".")[0] in ("admin", "admin_composite", "auth", "bureau")]
    assert len(posts) > 10
    for rule in posts:
        response = client.post(url_for_rule(rule, world, OWN), data={})
        assert response.status_code == 400, rule.rule
    assert db.session.get(User, world.victim_id).active  # nothing changed


def test_analyst_index_offers_every_wave_city_wide(app, world):
    client = staff_client(app)
    login_as(client, world.users["analyst"])
    page = client.get("/bureau/").get_data(as_text=True)
    for wave in (world.wave_both, world.wave_own_only):
        assert f"/bureau/{wave.id}/city" in page


def _downloads() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
        AuditLog.action.startswith("download.")))


def test_every_download_endpoint_is_audited(app, world):
    """A report, run or microdata download adds one audit entry naming who took what."""
    client = staff_client(app)
    login_as(client, world.users["analyst"])
    downloads = [rule for rule in app.url_map.iter_rules()
                 if ENDPOINTS[rule.endpoint].output in DOWNLOADS]
    assert {ENDPOINTS[r.endpoint].output for r in downloads} == set(DOWNLOADS)
    for rule in downloads:
        output = ENDPOINTS[rule.endpoint].output
        url = url_for_rule(rule, world, OWN)
        before = _downloads()
        headers = {"Authorization": f"Bearer {world.tokens['analyst']}"} \
            if kind_of(rule).startswith("api") else {}
        if "POST" in rule.methods:
            response = client.post(url, json={"waves": ["2024"], "outcomes": ["index"],
                                              "design": {"psu": None, "lonely_psu": "adjust"}},
                                   headers=headers)
        else:
            response = client.get(url, headers=headers)
        assert response.status_code in (200, 201), (rule.rule, response.get_data(as_text=True))
        response.close()
        db.session.expire_all()
        entry = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert _downloads() == before + 1, rule.rule
        assert (entry.action, entry.actor_name) == (f"download.{output}",
                                                    world.users["analyst"].username), rule.rule


def test_a_bureau_download_names_the_bureau_and_a_refused_one_leaves_nothing(app, world):
    client = staff_client(app)
    login_as(client, world.users["bureau-own"])
    wave = world.wave_both.id
    assert client.get(f"/bureau/{wave}/{OWN}/report.xlsx").status_code == 200
    assert client.get(f"/bureau/{wave}/{OTHER}/report.xlsx").status_code == 404
    assert client.get(f"/bureau/{wave}/city/report.pdf").status_code == 403
    assert client.get(f"/bureau/{wave}/{OWN}").status_code == 200  # a page is not a download
    db.session.expire_all()
    (entry,) = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action.startswith("download.")))
    assert entry.actor_name == world.users["bureau-own"].username
    assert (entry.action, entry.target) == ("download.report", f"wave:{wave}")
    assert entry.reason == f"wave_label=2024 district={OWN} format=xlsx lang=zh via=web"
