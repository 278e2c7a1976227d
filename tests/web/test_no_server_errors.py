"""The inputs that once gave a 500 (issue 10): each now gets a 4xx with a clear message in both
languages, and stores nothing.

One test per cause: ids beyond the database's integer range, NUL bytes and lone surrogates in
any part of a request, JSON and YAML nested too deep, a form posted as JSON, an oversized CSV
cell, and a district report over a street whose index cannot be computed.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request

from surveyapp.bounded_parsers import JSONTooDeep, loads_json
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, LoginFailure, User
from surveyapp.models.margins import MarginSet
from surveyapp.models.runs import EstimateRun
from surveyapp.models.survey import District, QuestionnaireVersion
from surveyapp.services.catalog import sync_catalog
from surveyapp.services.reporting import ReportError, build_district_report
from surveyapp.services.tokens import create_token
from tests.web.factories import (
    HONGKOU,
    form_post,
    make_response,
    make_wave,
    questionnaire_for,
    stored_counts,
)
from tests.web.report_data import YANGPU
from tests.web.staff_fixtures import login_as, make_user, staff_client

TOO_BIG_IDS = pytest.mark.parametrize("big_id", [str(2**31), str(2**63), "9" * 5000],
                                      ids=["2^31", "2^63", "5000 digits"])
NUL_REFUSED = {"zh": "不能包含空字符", "en": "must not contain NUL characters"}
SURROGATE_REFUSED = {"zh": "不是有效的 Unicode 文本", "en": "is not valid Unicode text"}


def said_in_both(page: str, words: dict[str, str]) -> bool:
    return all(word in page for word in words.values())


def api_token(username: str = "ana") -> dict[str, str]:
    db.session.add(User(username=username, password_hash="unused", role="analyst"))
    db.session.flush()
    _, token = create_token(username)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def rows_of(*models) -> tuple[int, ...]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models)


def csrf_token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


# ------------------------------------------------------------------ ids beyond the integer range


@TOO_BIG_IDS
@pytest.mark.parametrize("page", ["/s/{id}", "/s/{id}/thanks"])
def test_survey_ids_beyond_the_integer_range_are_not_found(client, page, big_id):
    response = client.get(page.format(id=big_id))
    assert response.status_code == 404
    assert "请核对" in response.get_data(as_text=True)


def test_survey_post_to_an_id_beyond_the_integer_range_is_not_found(client):
    assert client.post(f"/s/{2**31}", data={"district": "310109"}).status_code == 404


@TOO_BIG_IDS
@pytest.mark.parametrize("path", ["/api/v1/runs/{id}", "/api/v1/runs/{id}/results"])
def test_api_run_ids_beyond_the_integer_range_are_not_found(app, client, path, big_id):
    response = client.get(path.format(id=big_id), headers={**api_token(), "Accept-Language": "en"})
    assert response.status_code == 404
    assert response.get_json()["message"].startswith("nothing here")


def test_the_largest_database_integer_is_still_routed(app, client):
    response = client.get(f"/api/v1/runs/{2**31 - 1}", headers=api_token())
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"  # reached the view: "no such run"


# ---------------------------------------------------------------- NUL and surrogates at the edge


def test_nul_in_a_login_name_is_refused_before_the_database(app):
    client = staff_client(app)
    token = csrf_token(client, "/auth/login")
    before = rows_of(User, LoginFailure, AuditLog)

    response = client.post("/auth/login", data={"csrf_token": token, "username": "chen\x00",
                                                "password": "whatever"})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert said_in_both(page, NUL_REFUSED) and "username" in page
    assert rows_of(User, LoginFailure, AuditLog) == before


def test_nul_in_a_survey_comment_is_refused_and_stores_nothing(client):
    wave = make_wave()
    data = form_post(client, wave, comment="很好\x00")

    response = client.post(f"/s/{wave.id}", data=data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert said_in_both(page, NUL_REFUSED) and "comment" in page
    assert stored_counts() == (0, 0)


def test_nul_in_a_query_string_is_refused(client):
    wave = make_wave()
    response = client.get(f"/s/{wave.id}", query_string={"code": "AB\x00CD"})
    assert response.status_code == 400
    assert said_in_both(response.get_data(as_text=True), NUL_REFUSED)


def test_nul_in_a_wave_label_of_an_api_path_is_refused(app, client):
    response = client.get("/api/v1/waves/2024%00/microdata",
                          headers={**api_token(), "Accept-Language": "en"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"] == "label: " + NUL_REFUSED["en"]
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize("spec", [
    {"waves": "2024\x00"},
    {"waves": ["2024"], "name": "a\x00b"},
    {"waves": ["2024"], "design\x00": {}},
])
def test_nul_in_an_api_spec_is_refused_and_stores_no_run(app, client, spec):
    headers = api_token()
    response = client.post("/api/v1/runs", json=spec, headers=headers)
    assert response.status_code == 400
    assert NUL_REFUSED["zh"] in response.get_json()["message"]
    assert response.headers["Content-Language"] == "zh-CN"
    assert rows_of(EstimateRun) == (0,)


@pytest.mark.parametrize("body", ['{"waves": "\\ud800"}', '{"waves": ["2024"], "name": "\\udfff x"}',
                                  '{"\\udc00": 1, "waves": "2024"}'])
def test_lone_surrogates_in_an_api_spec_are_refused(app, client, body):
    response = client.post("/api/v1/runs", data=body, content_type="application/json",
                           headers={**api_token(), "Accept-Language": "en"})
    assert response.status_code == 400
    assert SURROGATE_REFUSED["en"] in response.get_json()["message"]
    assert rows_of(EstimateRun) == (0,)


# --------------------------------------------------------------------------- bodies too deep


@pytest.mark.parametrize("depth", [200, 100_000], ids=["200", "100000"])
def test_json_nested_too_deep_is_refused(app, client, depth):
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/runs", data=body, content_type="application/json",
                           headers={**api_token(), "Accept-Language": "en"})
    assert response.status_code == 400
    assert "nested more than" in response.get_json()["message"]
    assert rows_of(EstimateRun) == (0,)


def test_json_nested_within_the_limit_reaches_the_spec_checks(app, client):
    body = {"waves": "2024", "name": [[[[["deep but allowed"]]]]]}
    response = client.post("/api/v1/runs", json=body, headers=api_token())
    assert response.status_code == 422
    assert rows_of(EstimateRun) == (0,)


@pytest.mark.parametrize("body", ['{"district": "310109"}', "[1, 2]", '{"district": {"a": 1}}',
                                  "not json at all", "[" * 100_000],
                         ids=["object", "list", "nested", "not json", "deep"])
def test_a_survey_form_posted_as_json_is_refused(client, body):
    wave = make_wave()
    response = client.post(f"/s/{wave.id}", data=body, content_type="application/json")
    assert response.status_code == 415
    assert said_in_both(response.get_data(as_text=True),
                        {"zh": "请通过网页上的表单提交", "en": "Please send the form from its page"})
    assert stored_counts() == (0, 0)


def test_a_staff_form_posted_as_json_is_refused(app):
    response = staff_client(app).post("/auth/login", data='{"username": "chen"}',
                                      content_type="application/json")
    assert response.status_code == 415


# ----------------------------------------------------------------------------- admin uploads


@pytest.fixture
def admin_client(app):
    sync_catalog(Path(__file__).resolve().parents[2] / "questionnaires")
    client = staff_client(app)
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()
    return client


def upload(client, url: str, data: dict, content: str, filename: str):
    token = csrf_token(client, url)
    return client.post(url, data={**data, "csrf_token": token,
                                  "file": (io.BytesIO(content.encode()), filename)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("nesting", ["[" * 5000, "- " * 5000 + "x",
                                     "".join(" " * i + "a:\n" for i in range(600)) + " " * 600 + "x"],
                         ids=["flow", "block sequence", "block mapping"])
def test_a_questionnaire_nested_too_deep_is_refused(app, admin_client, nesting):
    before = rows_of(QuestionnaireVersion)
    response = upload(admin_client, "/admin/questionnaires", {}, nesting, "deep.yaml")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "deep.yaml" in page and "嵌套超过" in page
    assert rows_of(QuestionnaireVersion) == before


def test_a_questionnaire_expanding_aliases_beyond_the_limit_is_refused(app, admin_client):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    before = rows_of(QuestionnaireVersion)
    response = upload(admin_client, "/admin/questionnaires", {}, "\n".join(lines), "bomb.yaml")
    assert response.status_code == 422
    assert "bomb.yaml" in response.get_data(as_text=True)
    assert rows_of(QuestionnaireVersion) == before


def margins_form() -> dict:
    version = db.session.scalar(sa.select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == "citizen"))
    return {"name": "census", "description": "", "questionnaire": version.id}


@pytest.mark.parametrize("column", ["district", "category", "count"])
def test_a_margins_cell_over_the_csv_limit_names_its_line_and_column(app, admin_client, column):
    cells = {"district": "310109", "variable": "sex", "category": "male", "count": "100"}
    cells[column] = "9" * 200_000
    text = "district,variable,category,count\n310109,sex,female,120\n" + ",".join(cells.values())

    response = upload(admin_client, "/admin/margins", margins_form(), text + "\n", "m.csv")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第 3 行" in page and column in page and "131072" in page
    assert rows_of(MarginSet) == (0,)


def test_a_quoted_margins_cell_over_the_limit_is_found_across_lines(app, admin_client):
    text = ('district,variable,category,count\n310109,"sex",' + '"' + "x\n" * 70_000 + '",1\n')
    response = upload(admin_client, "/admin/margins", margins_form(), text, "m.csv")
    assert response.status_code == 422
    assert "第 2 行" in response.get_data(as_text=True)
    assert "category" in response.get_data(as_text=True)


def test_nul_in_a_margins_file_is_refused(app, admin_client):
    text = "district,variable,category,count\n310109,sex,ma\x00le,100\n"
    response = upload(admin_client, "/admin/margins", margins_form(), text, "m.csv")
    assert response.status_code == 422
    assert "第 2 行" in response.get_data(as_text=True)
    assert rows_of(MarginSet) == (0,)


def test_nul_in_an_uploaded_file_name_is_refused(app, admin_client):
    response = upload(admin_client, "/admin/margins", margins_form(),
                      "district,variable,category,count\n", "m\x00.csv")
    assert response.status_code == 400
    assert rows_of(MarginSet) == (0,)


@pytest.mark.parametrize("escape", ["\\0", "\\ud800"], ids=["NUL", "surrogate"])
def test_a_questionnaire_text_with_an_escaped_nul_or_surrogate_is_refused(app, admin_client,
                                                                          escape):
    shipped = Path(__file__).resolve().parents[2] / "questionnaires" / "citizen.yaml"
    text = shipped.read_text(encoding="utf-8").replace('version: "2024.1"', 'version: "2025.1"')
    title = re.search(r"^title:\n  zh: (.*)$", text, re.MULTILINE)
    text = text[:title.start(1)] + f'"坏{escape}"' + text[title.end(1):]
    before = rows_of(QuestionnaireVersion)

    response = upload(admin_client, "/admin/questionnaires", {}, text, "citizen.yaml")

    assert response.status_code == 422
    assert "title › zh" in response.get_data(as_text=True)  # the page shows paths in words
    assert rows_of(QuestionnaireVersion) == before


def test_every_json_body_flask_reads_is_depth_limited(app):
    with pytest.raises(JSONTooDeep):
        app.json.loads("[" * 100 + "]" * 100)
    with app.test_request_context(data="[" * 100 + "]" * 100, content_type="application/json"):
        assert request.get_json(silent=True) is None


def test_json_within_the_depth_limit_reads_as_json_does():
    document = {"a": [1, {"b": None, "c": [[[[["x"]]]]]}], "d": "\u4e2d"}
    assert loads_json(json.dumps(document)) == document
    assert loads_json(json.dumps(document).encode()) == document


# ----------------------------------------------------------------- reports over missing indexes


@pytest.fixture
def dont_know_wave(app):
    """Hongkou answered normally on its first street; Yangpu, and Hongkou's second street,
    only "don't know", so they have responses but no satisfaction index."""
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 3
    wave = make_wave(districts=[HONGKOU, YANGPU])
    questionnaire = questionnaire_for(wave)
    dont_know = {item.id: questionnaire.scales[item.scale].dont_know.value
                 for item in questionnaire.items}
    first, second = (s.code for s in db.session.get(District, HONGKOU).streets[:2])
    for seed in range(6):
        make_response(wave, district=HONGKOU, street=first, seed=seed)
    for seed in range(4):
        make_response(wave, district=HONGKOU, street=second, answers=dont_know, seed=10 + seed)
        make_response(wave, district=YANGPU, answers=dont_know, seed=20 + seed)
    yield wave, first, second
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


def test_a_street_without_an_index_is_shown_as_not_available(dont_know_wave, english):
    wave, first, second = dont_know_wave
    report = build_district_report(wave, HONGKOU, "en")
    streets = {row.code: row for row in report.streets}
    assert streets[second].n == 4 and streets[second].estimate is None
    assert streets[first].estimate is not None
    assert report.headline.rank == 1 and report.headline.rank_of == 1


def test_a_district_without_an_index_gets_a_clear_refusal(dont_know_wave, english):
    wave, _first, _second = dont_know_wave
    with pytest.raises(ReportError, match=f"district: {YANGPU} has no valid responses"):
        build_district_report(wave, YANGPU, "en")


@pytest.mark.parametrize("suffix", ["", "/report.csv", "/report.xlsx", "/report.pdf"])
@pytest.mark.parametrize("district", [HONGKOU, YANGPU])
def test_report_pages_over_missing_indexes_answer_without_a_server_error(
        app, dont_know_wave, district, suffix):
    wave, _first, _second = dont_know_wave
    client = staff_client(app)
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()

    response = client.get(f"/bureau/{wave.id}/{district}{suffix}")

    assert response.status_code == (200 if district == HONGKOU else 404)
    if district == YANGPU:
        assert YANGPU in response.get_data(as_text=True)


def test_a_multipart_part_without_a_name_is_not_a_server_error(client):
    """Found by tests/fuzz: a part with no name reached the guard as a field named None."""
    wave = make_wave()
    body = (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\x00\r\n"
            b'--b\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nx\r\n--b--\r\n')
    response = client.post(f"/s/{wave.id}", data=body,
                           content_type="multipart/form-data; boundary=b")
    assert 400 <= response.status_code < 500
    assert stored_counts() == (0, 0)
