"""Every protected endpoint x every role x every district: who gets in, who gets 401/403/404.

The endpoints come from ``app.url_map``, so a new endpoint is covered the day it is added: one
under /admin is admin-only, one under /api/v1 needs a bearer token, and one under /bureau must
be listed in BUREAU_KINDS (the test fails until it is) because its scoping needs a decision.
Report building is replaced by a stand-in that echoes the district asked for: this test is about
who may ask, and tests/web/test_bureau_pages.py checks the real reports.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import User
from surveyapp.models.quality import QualityFlag
from surveyapp.models.runs import EstimateRun
from surveyapp.models.survey import QuestionnaireVersion
from surveyapp.services import report_cache
from surveyapp.services.catalog import sync_catalog
from surveyapp.services.tokens import create_token
from surveyapp.services.waves import create_wave
from tests.reports.sample import sample_report
from tests.web.staff_fixtures import T0, add_response, login_as, make_user, staff_client

OWN, OTHER, UNKNOWN = "310109", "310110", "999999"
ROLES = ("anonymous", "bureau-own", "bureau-other", "analyst", "admin")
PROTECTED_PREFIXES = ("/admin", "/bureau", "/api")
PUBLIC_API = {"api.openapi"}
QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"

# How each bureau endpoint is scoped: "staff" (any signed-in staff), "district" (the URL's
# district must be visible to the user), "city" (city analysts and admins only).
BUREAU_KINDS = {
    "bureau.index": "staff",
    "bureau.district_page": "district",
    "bureau.district_chart": "district",
    "bureau.district_download": "district",
    "bureau.city_page": "city",
    "bureau.city_chart": "city",
    "bureau.city_download": "city",
}


def protected_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith(PROTECTED_PREFIXES) and rule.endpoint not in PUBLIC_API]


def kind_of(rule) -> str | None:
    blueprint = rule.endpoint.split(".")[0]
    return {"admin": "admin", "api": "api"}.get(blueprint) or BUREAU_KINDS.get(rule.endpoint)


def test_every_protected_endpoint_is_in_the_matrix(app):
    unknown = [rule.rule for rule in protected_rules(app) if kind_of(rule) is None]
    assert unknown == [], f"add these endpoints to BUREAU_KINDS with their scope: {unknown}"
    stray = [rule.rule for rule in app.url_map.iter_rules()
             if rule.endpoint.split(".")[0] in ("admin", "bureau", "api")
             and not rule.rule.startswith(PROTECTED_PREFIXES)]
    assert stray == [], f"staff endpoints outside the protected prefixes: {stray}"


# --------------------------------------------------------------------------------- world

@dataclasses.dataclass
class World:
    users: dict
    tokens: dict
    wave_both: object
    wave_own_only: object
    flag_id: int
    run_id: int
    victim_id: int


def fake_report(wave, district, lang, *args, **kwargs):
    """The sample report, relabelled as the district asked for (or the city)."""
    report = sample_report(lang, "district" if district else "city")
    return dataclasses.replace(report, area=f"AREA-{district or 'CITY'}", area_code=district)


@pytest.fixture
def world(app, monkeypatch) -> World:
    monkeypatch.setattr(report_cache, "cached_report", fake_report)
    monkeypatch.setattr(report_cache, "report_document",
                        lambda wave, district, lang, fmt, *a, **k:
                        f"DOCUMENT-{district or 'CITY'}-{fmt}".encode())
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
    run = EstimateRun(spec_json="{}", districts_json=json.dumps([OWN]), data_hash="0" * 64,
                      response_count=4, response_manifest=b"", package_version="test",
                      results_json=json.dumps({"estimates": [], "comparisons": []}), created_by=users["bureau-own"].username,
                      user_id=users["bureau-own"].id)
    db.session.add(run)
    db.session.flush()
    tokens = {role: create_token(user.username)[1] for role, user in users.items() if user}
    db.session.commit()
    return World(users, tokens, wave_both, wave_own_only, flag.id, run.id, victim.id)


# ------------------------------------------------------------------------------- requests

def url_for_rule(rule, world: World, district: str) -> str:
    """The rule's URL with a value for each of its variables."""
    values = {
        "wave_id": world.wave_both.id, "district": district, "flag_id": world.flag_id,
        "user_id": world.victim_id, "run_id": world.run_id, "label": world.wave_own_only.label,
        "chart_id": "trend", "fmt": "csv",
    }
    for name in rule.arguments:
        if name not in values:
            converter = rule._converters[name]
            if not hasattr(converter, "items"):
                pytest.fail(f"{rule.rule}: the matrix has no value for <{name}>; add one")
            values[name] = min(converter.items)
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
    """'login' (redirect to sign-in), '401', '403', '404' or 'ok'."""
    if role == "anonymous":
        return "401" if kind == "api" else "login"
    if kind == "admin":
        return "ok" if role == "admin" else "403"
    if kind == "city":
        return "403" if role.startswith("bureau") else "ok"
    if kind == "district":
        visible = {"bureau-own": {OWN}, "bureau-other": {OTHER}}.get(role, {OWN, OTHER})
        return "ok" if district in visible else "404"
    return "ok"


def outcome(response) -> str:
    if response.status_code == 302 and "/auth/login" in response.location:
        return "login"
    if response.status_code in (200, 201, 302):
        return "ok"
    return str(response.status_code)


def districts_for(rule) -> tuple[str | None, ...]:
    return (OWN, OTHER, UNKNOWN) if "district" in rule.arguments else (None,)


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
                token = world.tokens.get(role) if kind == "api" else None
                want = api_expected(rule, role) if kind == "api" else \
                    expected(kind, role, district)
                response = call(client, method, url, token)
                got = outcome(response)
                response.close()  # streamed downloads hold their file open until closed
                if got != want:
                    failures.append(f"{role} {method} {url}: expected {want}, got {got}")
    assert failures == []


def api_expected(rule, role: str) -> str:
    """Token holders reach every API endpoint, but a bureau only its own runs and waves."""
    if role == "anonymous":
        return "401"
    if role == "bureau-other" and rule.endpoint in ("api.run_detail", "api.run_results",
                                                    "api.microdata"):
        return "404"
    if rule.endpoint == "api.submit_run":
        return "400"  # reached the handler: the empty body is refused as a bad spec
    return "ok"


@pytest.mark.parametrize("role", ["anonymous", "bureau-own", "analyst", "admin"])
def test_api_ignores_the_session_cookie(app, world, role):
    """Signed in on the web but without a token, the API still answers 401."""
    client = staff_client(app)
    login_as(client, world.users[role])
    for rule in protected_rules(app):
        if kind_of(rule) == "api" and "GET" in rule.methods:
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
             if "POST" in rule.methods and rule.endpoint.split(".")[0] in ("admin", "auth", "bureau")]
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
