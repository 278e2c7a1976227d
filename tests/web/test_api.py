"""/api/v1 end to end: tokens, role scoping, runs, downloads, JSON errors and the OpenAPI document."""
import io
import json

import jsonschema
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from surveyapp.blueprints.api_openapi import openapi_document
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, User
from surveyapp.models.jobs import Job
from surveyapp.models.runs import ApiToken
from surveyapp.models.survey import District, Response
from surveyapp.services.tokens import create_token, revoke_token
from tests.web.analyst_fixtures import HONGKOU, MARGINS

SPEC = {"waves": ["2023", "2024"], "outcomes": ["index"], "domains": ["district"],
        "weighting": {"method": "rake", "margins": MARGINS}, "comparisons": "consecutive"}


def make_user(username: str, role: str, districts=()) -> str:
    user = User(username=username, password_hash="unused", role=role,
                districts=[db.session.get(District, code) for code in districts])
    db.session.add(user)
    db.session.flush()
    _, token = create_token(username)
    db.session.commit()
    return token


@pytest.fixture
def tokens(world):
    return {"analyst": make_user("ana", "analyst"),
            "bureau": make_user("hongkou", "bureau", [HONGKOU])}


def auth(token: str, lang: str | None = None) -> dict:
    """The bearer header, and Accept-Language when ``lang`` is given."""
    return {"Authorization": f"Bearer {token}", **({"Accept-Language": lang} if lang else {})}


def post_run(client, spec, headers: dict):
    """POST a spec; once accepted (202, a job run at once in the suite's immediate mode), the
    run as GET /api/v1/runs/<id> gives it. A refusal is returned as it is."""
    response = client.post("/api/v1/runs", json=spec, headers=headers)
    if response.status_code != 202:
        return response
    job = response.get_json()
    conforms(job, "Job")
    assert response.headers["Location"] == job["url"] and job["state"] == "done", job
    assert client.get(job["url"], headers=headers).get_json() == job
    return client.get(job["run"], headers=headers)


def conforms(body, schema_name: str) -> None:
    """The body validates against the OpenAPI document's schema of that name."""
    document = openapi_document()
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{schema_name}",
                               "components": document["components"]})


def error_conforms(response, path: str, method: str = "get") -> None:
    """An error response matches its documented body and Content-Language header."""
    document = openapi_document()
    documented = document["paths"][path][method]["responses"][str(response.status_code)]
    conforms(response.get_json(), "Error")
    header = documented["headers"]["Content-Language"]["$ref"].rsplit("/", 1)[1]
    jsonschema.validate(response.headers["Content-Language"],
                        document["components"]["headers"][header]["schema"])
    assert "Accept-Language" in response.headers["Vary"]


def test_openapi_lists_exactly_the_served_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(f"/api/v1{path}".replace("{", "<").replace("}", ">"), method.upper())
                  for path, item in document["paths"].items() for method in item}
    served = {(rule.rule.replace("<int:", "<"), method)
              for rule in client.application.url_map.iter_rules()
              if rule.rule.startswith("/api/v1") for method in rule.methods
              if method not in ("HEAD", "OPTIONS")}
    assert documented == served
    jsonschema.Draft202012Validator.check_schema(
        {"$ref": "#/components/schemas/Run", "components": document["components"]})


def test_openapi_documents_the_language_of_every_operation_and_error(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"$ref": "#/components/parameters/AcceptLanguage"} in operation["parameters"]
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert "Content-Language" in response["headers"], (path, method, status)


@pytest.mark.parametrize("headers, message", [
    ({}, "Authorization: expected 'Bearer <token>'"),
    ({"Authorization": "Basic abc"}, "Authorization: expected 'Bearer <token>'"),
    ({"Authorization": "Bearer sa_nope"}, "Authorization: unknown, revoked or disabled token"),
])
def test_requests_without_a_valid_token_get_401_json(client, tokens, headers, message):
    response = client.get("/api/v1/waves", headers={**headers, "Accept-Language": "en"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {"error": "unauthorized", "message": message}
    assert response.headers["Content-Language"] == "en"
    error_conforms(response, "/waves")


def test_revoked_token_is_refused_and_use_is_recorded(client, tokens):
    assert client.get("/api/v1/waves", headers=auth(tokens["analyst"])).status_code == 200
    row = db.session.scalar(sa.select(ApiToken).order_by(ApiToken.id))
    db.session.refresh(row)
    assert row.last_used_at is not None and len(row.token_hash) == 64
    assert tokens["analyst"] not in row.token_hash
    revoke_token(row.id)
    db.session.commit()
    assert client.get("/api/v1/waves", headers=auth(tokens["analyst"])).status_code == 401


def test_waves_and_questionnaires_are_scoped(client, tokens):
    waves = client.get("/api/v1/waves", headers=auth(tokens["analyst"])).get_json()
    assert [w["label"] for w in waves] == ["2023", "2024"]
    assert waves[0]["districts"] == ["310109", "310110"]
    assert waves[0]["opens_at"].endswith("+00:00")  # UTC on both backends
    for wave in waves:
        conforms(wave, "Wave")
    bureau = client.get("/api/v1/waves", headers=auth(tokens["bureau"])).get_json()
    assert {tuple(w["districts"]) for w in bureau} == {(HONGKOU,)}
    questionnaires = client.get("/api/v1/questionnaires", headers=auth(tokens["bureau"])).get_json()
    assert "citizen" in {q["key"] for q in questionnaires}
    for entry in questionnaires:
        conforms(entry, "Questionnaire")
    citizen = next(q for q in questionnaires if q["key"] == "citizen")
    assert citizen["bands"][0] == {"lower": 90, "upper": 100,
                                   "label": {"zh": "满意", "en": "Satisfied"}}
    assert [b["lower"] for b in citizen["bands"]] == [90, 80, 60, 40, 0]  # best first


def test_submit_a_spec_get_results_and_download_them(client, tokens):
    response = post_run(client, SPEC, auth(tokens["analyst"]))
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    conforms(run, "Run")
    assert run["response_count"] == 80 and run["districts"] is None
    assert {e["level"] for e in run["results"]["estimates"]} == {"all", "310109", "310110"}
    assert run["results"]["comparisons"][0]["from_wave"] == "2023"

    listed = client.get("/api/v1/runs", headers=auth(tokens["analyst"])).get_json()
    assert [r["id"] for r in listed] == [run["id"]] and "results" not in listed[0]
    detail = client.get(f"/api/v1/runs/{run['id']}", headers=auth(tokens["analyst"])).get_json()
    assert detail["results"] == run["results"]

    base = f"/api/v1/runs/{run['id']}/results"
    as_json = client.get(base, headers=auth(tokens["analyst"])).get_json()
    assert as_json["estimates"] == run["results"]["estimates"]
    as_csv = client.get(f"{base}?format=csv", headers=auth(tokens["analyst"]))
    assert as_csv.mimetype == "text/csv"
    table = pd.read_csv(io.BytesIO(as_csv.data), encoding="utf-8-sig")
    assert len(table) == len(run["results"]["estimates"])
    as_xlsx = client.get(f"{base}?format=xlsx", headers=auth(tokens["analyst"]))
    assert openpyxl.load_workbook(io.BytesIO(as_xlsx.data)).sheetnames[0] == "estimates"


def test_bureau_runs_cover_only_its_districts_and_only_it_sees_them(client, tokens):
    response = post_run(client, SPEC, auth(tokens["bureau"]))
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    hongkou = db.session.scalar(sa.select(sa.func.count(Response.id)).where(
        Response.district_code == HONGKOU))
    assert run["districts"] == [HONGKOU] and run["response_count"] == hongkou
    assert {e["level"] for e in run["results"]["estimates"]} == {"all", HONGKOU}
    other = post_run(client, SPEC, auth(tokens["analyst"])).get_json()
    assert [r["id"] for r in client.get("/api/v1/runs", headers=auth(tokens["bureau"])).get_json()
            ] == [run["id"]]
    missing = client.get(f"/api/v1/runs/{other['id']}", headers=auth(tokens["bureau"]))
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get(f"/api/v1/runs/{run['id']}", headers=auth(tokens["analyst"])).status_code == 200


def test_regressions_crosstabs_and_weights_are_documented_results(client, tokens):
    spec = {**SPEC, "regressions": [{"outcome": "overall", "drivers": "dimensions"}],
            "crosstabs": [{"rows": "band:index", "columns": "age_group"}]}
    response = post_run(client, spec, auth(tokens["analyst"]))
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    conforms(run, "Run")
    assert {r["wave"] for r in run["results"]["regressions"]} == {"2023", "2024"}
    assert 0 <= run["results"]["crosstabs"][0]["p_value"] <= 1
    assert run["results"]["waves"]["2024"]["weights"]["kish_deff"] >= 1
    assert run["spec"]["regressions"][0]["model"] == "linear"
    bad = {**SPEC, "regressions": [{"outcome": "overall", "model": "logistic"}],
           "crosstabs": [{"rows": "planet", "columns": "sex"}]}
    refused = post_run(client, bad, auth(tokens["analyst"], "en"))
    assert refused.status_code == 422
    assert refused.get_json()["problems"] == [
        "spec: regressions[0].satisfied_at: required for model logistic: the score (0-100) "
        "that counts as satisfied",
        "spec: crosstabs[0].rows: expected one of district, street, sex, age_group, "
        "residence_years, language, channel, or band:<score> such as band:index; got 'planet'"]
    error_conforms(refused, "/runs", "post")
    chinese = post_run(client, bad, auth(tokens["analyst"]))
    assert chinese.get_json()["problems"][0] == (
        "spec: regressions[0].satisfied_at: logistic 模型必填：计为满意的得分（0-100）")


@pytest.mark.parametrize("body, status, check", [
    ("{not json", 400, lambda b: b["message"].startswith("body: expected a JSON estimate spec")),
    ([1, 2], 422, lambda b: b["problems"] == ["spec: expected a mapping with at least 'waves'"]),
    ({"waves": ["2024"], "weighting": {"method": "ipf"}}, 422,
     lambda b: b["problems"][0].startswith("spec: weighting.method: expected one of")),
    ({"waves": ["1999"]}, 422, lambda b: b["problems"][0].startswith("waves[0]: unknown wave")),
    ({"waves": ["2024"], "design": {"psu": "colour"}}, 422,
     lambda b: b["problems"] == ["design.psu: unknown variable 'colour'"]),
])
def test_malformed_specs_get_4xx_json_naming_the_problem(client, tokens, body, status, check):
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {
        "json": body}
    response = client.post("/api/v1/runs", headers=auth(tokens["analyst"], "en"), **kwargs)
    assert response.status_code == status
    assert check(response.get_json()), response.get_json()
    error_conforms(response, "/runs", "post")


BAD_SPEC = {"waves": ["2024"], "weighting": {"method": "ipf"}, "interval": {"level": 2}}


def test_spec_problems_are_in_chinese_by_default_each_after_its_path(client, tokens):
    response = post_run(client, BAD_SPEC, auth(tokens["analyst"]))
    assert response.status_code == 422 and response.headers["Content-Language"] == "zh-CN"
    assert response.get_json() == {"error": "invalid_spec", "message": "估计方案有误", "problems": [
        "spec: weighting.method: 应为以下之一：none, poststratify, rake, calibrate；实际为 'ipf'",
        "spec: interval.level: 应为置信水平，如 0.95（不小于 0.5 且小于 1）；实际为 2"]}
    error_conforms(response, "/runs", "post")
    unknown = post_run(client, {"waves": ["1999"]}, auth(tokens["analyst"], "zh-CN,zh;q=0.9,en;q=0.8"))
    assert unknown.get_json()["problems"] == ["waves[0]: 未知的测评批次 '1999'；现有批次：2023, 2024"]


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "en-GB, zh;q=0.5", "fr, en;q=0.3"])
def test_spec_problems_are_in_english_when_the_client_prefers_it(client, tokens, accept):
    response = post_run(client, BAD_SPEC, auth(tokens["analyst"], accept))
    assert response.status_code == 422 and response.headers["Content-Language"] == "en"
    body = response.get_json()
    assert body["message"] == "the estimate spec has problems"
    assert body["problems"] == [
        "spec: weighting.method: expected one of none, poststratify, rake, calibrate; got 'ipf'",
        "spec: interval.level: expected a level such as 0.95 (from 0.5, below 1); got 2"]
    error_conforms(response, "/runs", "post")


def test_every_api_error_states_its_language(client, tokens):
    for url, status, path in [("/api/v1/runs/12345", 404, "/runs/{run_id}"),
                              ("/api/v1/waves/2024/microdata?format=xls", 400,
                               "/waves/{label}/microdata"),
                              ("/api/v1/waves", 401, "/waves")]:
        headers = {} if status == 401 else auth(tokens["analyst"])
        response = client.get(url, headers=headers)
        assert response.status_code == status and response.headers["Content-Language"] == "zh-CN"
        error_conforms(response, path)
    chinese = client.get("/api/v1/nothing", headers=auth(tokens["analyst"]))
    english = client.get("/api/v1/nothing", headers=auth(tokens["analyst"], "en"))
    assert chinese.status_code == english.status_code == 404
    assert chinese.get_json()["error"] == english.get_json()["error"] == "Not Found"
    assert chinese.get_json()["message"].startswith("此地址没有内容")
    assert english.headers["Content-Language"] == "en"
    assert english.get_json()["message"].startswith("nothing here")
    labels = client.get("/api/v1/waves/1999/microdata?lang=en", headers=auth(tokens["analyst"]))
    assert labels.headers["Content-Language"] == "zh-CN"  # ?lang= is the file's labels, not this
    assert "Set-Cookie" not in labels.headers  # and the API keeps no session


@pytest.mark.parametrize("url, status, error", [
    ("/api/v1/runs/12345", 404, "not_found"),
    ("/api/v1/runs/abc", 404, "Not Found"),
    ("/api/v1/nothing", 404, "Not Found"),
    ("/api/v1/waves/2024/microdata?format=xls", 400, "bad_request"),
    ("/api/v1/waves/1999/microdata", 404, "not_found"),
    ("/api/v1/waves/2024/microdata?margins=nope", 422, "invalid_request"),
])
def test_bad_urls_get_json_errors(client, tokens, url, status, error):
    response = client.get(url, headers=auth(tokens["analyst"]))
    assert response.status_code == status and response.get_json()["error"] == error


def test_wrong_method_and_oversized_body_are_json(client, tokens):
    response = client.delete("/api/v1/runs", headers=auth(tokens["analyst"]))
    assert response.status_code == 405 and "message" in response.get_json()
    huge = json.dumps({"waves": ["2024"], "name": "x" * (3 * 1024 * 1024)})
    response = client.post("/api/v1/runs", data=huge, content_type="application/json",
                           headers=auth(tokens["analyst"]))
    assert response.status_code == 413 and "message" in response.get_json()


def test_microdata_download_is_weighted_and_refused_to_bureaus(client, tokens):
    """Analysts get every district; a bureau gets 403 (tests/web/test_disclosure.py)."""
    with client.get(f"/api/v1/waves/2024/microdata?format=parquet&margins={MARGINS}",
                    headers=auth(tokens["analyst"])) as response:
        assert response.status_code == 200
        assert response.mimetype == "application/vnd.apache.parquet"
        data = response.data
    table = pq.read_table(io.BytesIO(data)).to_pandas()
    assert set(table["district"]) == {HONGKOU, "310110"} and "comment" not in table
    assert table["weight"].sum() == pytest.approx(200_000)
    refused = client.get("/api/v1/waves/2024/microdata", headers=auth(tokens["bureau"]))
    assert refused.status_code == 403
    label = pq.read_schema(io.BytesIO(data)).field("weight").metadata[b"label"].decode()
    assert label == "最终权重 / Final weight"


def test_a_large_export_is_a_job_whose_file_only_its_owner_downloads(client, tokens,
                                                                     monkeypatch):
    """Over SURVEYAPP_EXPORT_JOB_ROWS the export answers 202 with a job; the job's file is the
    export the request would have given, for its owner alone, and audited when fetched."""
    url = f"/api/v1/waves/2024/microdata?format=csv&margins={MARGINS}"
    with client.get(url, headers=auth(tokens["analyst"])) as response:
        direct = response.data
    monkeypatch.setitem(client.application.config, "SURVEYAPP_EXPORT_JOB_ROWS", 0)
    queued = client.get(url, headers=auth(tokens["analyst"]))
    assert queued.status_code == 202, queued.get_json()
    conforms(queued.get_json(), "Job")
    job = client.get(queued.headers["Location"], headers=auth(tokens["analyst"])).get_json()
    assert job["state"] == "done" and job["kind"] == "export"
    downloads = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                  .where(AuditLog.action == "download.microdata"))
    fetched = client.get(job["file"], headers=auth(tokens["analyst"]))
    assert fetched.status_code == 200 and fetched.mimetype == "text/csv"
    assert fetched.data == direct
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "download.microdata")) == downloads + 1
    other = make_user("analyst2", "analyst")
    assert client.get(job["file"], headers=auth(other)).status_code == 404
    refused = client.get("/api/v1/waves/2024/microdata?margins=no-such-set",
                         headers=auth(tokens["analyst"]))
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)
                             .where(Job.kind == "export")) == 1


NEW_ESTIMATORS_BAD_SPEC = {"waves": ["2024"], "outcomes": [{"quantile": "index", "p": 2}],
                           "weighting": {"method": "calibrate", "margins": MARGINS,
                                         "calfun": "logit"},
                           "variance": {"method": "fay", "fay_rho": 1}}


@pytest.mark.parametrize("lang, problems", [
    ("zh-CN", ["spec: outcomes[0].p: 应为 0 到 1 之间的数；实际为 2",
               "spec: weighting.bounds: calfun 为 logit 时必填，如 {lower: 0.5, upper: 2}",
               "spec: variance.fay_rho: 应为大于 0 且小于 1 的数（如 0.5）；实际为 1"]),
    ("en", ["spec: outcomes[0].p: expected a number between 0 and 1; got 2",
            "spec: weighting.bounds: required for calfun logit, e.g. {lower: 0.5, upper: 2}",
            "spec: variance.fay_rho: expected a number above 0 and below 1 (e.g. 0.5); got 1"]),
])
def test_new_estimator_parameters_are_refused_with_path_in_both_languages(client, tokens, lang,
                                                                           problems):
    response = post_run(client, NEW_ESTIMATORS_BAD_SPEC, auth(tokens["analyst"], lang))
    assert response.status_code == 422
    assert response.get_json()["problems"] == problems
    error_conforms(response, "/runs", "post")


def test_api_runs_a_median_and_a_calibrated_ratio(client, tokens):
    spec = {"waves": ["2024"], "domains": ["district"],
            "outcomes": [{"quantile": "index"}, {"ratio": "overall", "denominator": "index"}],
            "weighting": {"method": "calibrate", "margins": MARGINS, "calfun": "raking"}}
    conforms(spec, "EstimateSpec")
    response = post_run(client, spec, auth(tokens["analyst"]))
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    conforms(run, "Run")
    assert run["spec"]["outcomes"][0] == {"quantile": "index", "p": 0.5, "name": "median_index"}
    assert run["spec"]["weighting"]["calfun"] == "raking"


def test_a_questionnaire_version_downloads_as_xlsform(client, tokens):
    from surveyapp.xlsform.reader import read_xlsform

    listed = client.get("/api/v1/questionnaires", headers=auth(tokens["bureau"])).get_json()
    entry = next(q for q in listed if q["key"] == "citizen")
    url = f"/api/v1/questionnaires/citizen/{entry['version']}/xlsform"
    response = client.get(url, headers=auth(tokens["bureau"]))
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    questionnaire, _text = read_xlsform(response.data, "api.xlsx")
    assert (questionnaire.id, questionnaire.version) == ("citizen", entry["version"])
    missing = client.get("/api/v1/questionnaires/citizen/0.0/xlsform",
                         headers=auth(tokens["analyst"], "en"))
    assert missing.status_code == 404
    assert missing.get_json()["message"] == ("questionnaire 'citizen' version '0.0': no such "
                                             "questionnaire version")
    error_conforms(missing, "/questionnaires/{key}/{version}/xlsform")
