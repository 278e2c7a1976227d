"""POST /api/v1/runs/<id>/rerun: a job whose result is the comparison of the rerun with the
recorded run, in the client's language, audited, and disclosed to a bureau as its runs are."""
from __future__ import annotations

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog, User
from surveyapp.models.jobs import Job
from surveyapp.models.survey import District
from tests.web.analyst_fixtures import HONGKOU, add_responses
from tests.web.test_api import SPEC, auth, conforms, error_conforms, post_run, tokens  # noqa: F401

YANGPU = "310110"


def rerun(client, run_id: int, headers: dict):
    """POST the rerun; once accepted (run at once in the suite's immediate mode), the job as
    GET /api/v1/jobs/<id> gives it. A refusal is returned as it is."""
    response = client.post(f"/api/v1/runs/{run_id}/rerun", headers=headers)
    if response.status_code != 202:
        return response
    job = response.get_json()
    conforms(job, "Job")
    assert response.headers["Location"] == job["url"] and job["kind"] == "rerun"
    assert job["state"] == "done" and job["run"] == f"/api/v1/runs/{run_id}", job
    return client.get(job["url"], headers=headers)


def test_a_rerun_on_the_same_data_is_identical(client, tokens):
    run = post_run(client, SPEC, auth(tokens["analyst"])).get_json()
    answer = rerun(client, run["id"], auth(tokens["analyst"], "en"))
    assert answer.status_code == 200
    job = answer.get_json()
    conforms(job, "Job")
    comparison = job["comparison"]
    assert comparison["identical"] is True and comparison["run_id"] == run["id"]
    assert comparison["data_changes"] == [] and comparison["result_changes"] == []
    assert comparison["summary"].startswith(f"run {run['id']}: identical results on identical")
    assert comparison["recorded"] == comparison["rerun"] and "results" not in comparison
    entry = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (entry.action, entry.target) == ("download.run", f"run:{run['id']}")
    assert "format=comparison" in entry.reason and f"job={job['id']}" in entry.reason


def test_a_rerun_says_what_changed_in_the_clients_language(client, tokens, world):
    run = post_run(client, SPEC, auth(tokens["analyst"])).get_json()
    add_responses(world.waves["2024"], 2, seed=31)
    english = rerun(client, run["id"], auth(tokens["analyst"], "en")).get_json()["comparison"]
    assert english["identical"] is False
    assert english["data_changes"] == ["2 responses added since the run"]
    assert english["rerun"]["response_count"] == english["recorded"]["response_count"] + 2
    assert any(line.startswith("2024/index/all/all: estimate") for line in
               english["result_changes"])
    chinese = rerun(client, run["id"], auth(tokens["analyst"])).get_json()["comparison"]
    assert chinese["data_changes"] == ["自该次运行以来新增 2 份答卷"]
    assert chinese["summary"].startswith(f"运行 {run['id']}：结果不同")


def test_a_bureau_sees_the_changes_of_its_suppressed_results(client, tokens, world):
    """A bureau's run results are suppressed (cells under 30 responses): so are the figures
    in its comparison, which an analyst's rerun of the same run names in full."""
    run = post_run(client, SPEC, auth(tokens["bureau"])).get_json()
    add_responses(world.waves["2024"], 6, seed=32)
    bureau = rerun(client, run["id"], auth(tokens["bureau"], "en")).get_json()["comparison"]
    analyst = rerun(client, run["id"], auth(tokens["analyst"], "en")).get_json()["comparison"]
    cell = f"2024/index/district/{HONGKOU}: estimate"
    full = next(line for line in analyst["result_changes"] if line.startswith(cell))
    shown = next(line for line in bureau["result_changes"] if line.startswith(cell))
    assert "None -> None" not in full and shown.startswith(f"{cell} None -> None, n ")


def test_a_bureau_cannot_rerun_a_run_of_districts_no_longer_its_own(client, tokens):
    run = post_run(client, SPEC, auth(tokens["bureau"])).get_json()
    user = db.session.scalar(sa.select(User).where(User.username == "hongkou"))
    user.districts = [db.session.get(District, YANGPU)]
    db.session.commit()
    refused = client.post(f"/api/v1/runs/{run['id']}/rerun", headers=auth(tokens["bureau"], "en"))
    assert refused.status_code == 403
    assert refused.get_json()["message"] == (
        f"run {run['id']}: the run covers districts that are no longer yours")
    error_conforms(refused, "/runs/{run_id}/rerun", "post")
    chinese = client.post(f"/api/v1/runs/{run['id']}/rerun", headers=auth(tokens["bureau"]))
    assert chinese.get_json()["message"] == f"run {run['id']}: 该次运行涵盖的区已不在您的权限范围内"
    assert db.session.scalar(sa.select(sa.func.count(Job.id)).where(Job.kind == "rerun")) == 0


def test_a_rerun_that_cannot_run_is_refused_with_the_reason(client, tokens, world):
    run = post_run(client, SPEC, auth(tokens["analyst"])).get_json()
    world.waves["2023"].label = "2023-renamed"
    db.session.commit()
    refused = client.post(f"/api/v1/runs/{run['id']}/rerun", headers=auth(tokens["analyst"], "en"))
    assert refused.status_code == 422 and refused.get_json()["error"] == "invalid_spec"
    assert refused.get_json()["problems"][0].startswith("waves[0]: unknown wave '2023'")
    error_conforms(refused, "/runs/{run_id}/rerun", "post")
    chinese = client.post(f"/api/v1/runs/{run['id']}/rerun", headers=auth(tokens["analyst"]))
    assert chinese.get_json()["problems"][0].startswith("waves[0]: 未知的测评批次 '2023'")
    assert db.session.scalar(sa.select(sa.func.count(Job.id)).where(Job.kind == "rerun")) == 0
