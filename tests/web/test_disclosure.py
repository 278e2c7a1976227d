"""The disclosure policy (surveyapp/services/disclosure.py) where data leaves: the rule itself,
bureau run results over the API, microdata refused to bureaus, analysts' time stamps cut to the
day by default, and every run, report and microdata download in the audit log."""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from surveyapp.cli.estimate import estimate
from surveyapp.cli.export import export
from surveyapp.cli.report import report
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog
from surveyapp.models.runs import EstimateRun
from surveyapp.models.survey import Response, Wave
from surveyapp.services.disclosure import coarsen_times, disclosed_results, withheld
from tests.web.analyst_fixtures import HONGKOU
from tests.web.test_api import auth, conforms, make_user, post_run

STREET_SPEC = {"waves": ["2023", "2024"], "outcomes": ["index"], "domains": ["street", "sex"],
               "comparisons": "consecutive"}


# ----------------------------------------------------------------------------- the rule

@pytest.mark.parametrize("counts, total, expected", [
    ({"a": 40, "b": 50, "c": 60}, 150, set()),                # nothing small: all published
    ({"a": 11, "b": 50, "c": 60}, 121, {"a", "b"}),           # one small cell takes the next
    ({"a": 11, "b": 12, "c": 60, "d": 70}, 153, {"a", "b", "c"}),  # 23 < 30: a third goes too
    ({"a": 11, "b": 25, "c": 60}, 96, {"a", "b"}),            # 36 >= 30: two suffice
    ({"a": 40, "b": 50}, 100, {"a"}),                         # 10 without a level: +1 cell
    ({"a": 40, "b": 50}, 130, set()),                         # 40 without a level: enough
    ({"a": 10, "b": 15}, 25, {"a", "b"}),                     # a total under the threshold
    ({"a": 0, "b": 40, "c": 50}, 90, {"a"}),                  # an empty street hides nothing
])
def test_withheld_is_primary_then_complementary(counts, total, expected):
    assert withheld(counts, total, 30) == expected


@pytest.mark.parametrize("counts", [
    {"s1": 11, "s2": 12, "s3": 22, "s4": 24, "s5": 25, "s6": 27, "s7": 80, "s8": 95},
    {"s1": 29, "s2": 300}, {"s1": 1, "s2": 30, "s3": 31}, {"s1": 5, "s2": 5, "s3": 5, "s4": 200},
])
def test_no_group_under_the_threshold_can_be_recovered_by_differencing(counts):
    """Total minus every published cell is either nothing or at least the threshold."""
    total = sum(counts.values())
    hidden = withheld(counts, total, 30)
    published = [n for key, n in counts.items() if key not in hidden]
    assert all(n >= 30 for n in published)
    assert total - sum(published) == 0 or total - sum(published) >= 30


def test_changes_of_a_withheld_cell_are_withheld_in_both_directions():
    def row(wave, level, n):
        return {"wave": wave, "outcome": "index", "domain": "street" if level != "all" else "all",
                "level": level, "estimate": 80.0, "se": 1.0, "ci_low": 78.0, "ci_high": 82.0,
                "df": 9, "deff": 1.0, "n": n}

    results = {"estimates": [row("2023", "all", 100), row("2023", "a", 10), row("2023", "b", 40),
                             row("2023", "c", 50), row("2024", "all", 100), row("2024", "a", 40),
                             row("2024", "b", 30), row("2024", "c", 30)],
               "comparisons": [{"outcome": "index", "domain": "street", "level": level,
                                "from_wave": "2023", "to_wave": "2024", "difference": 1.0,
                                "se": 1.0, "ci_low": 0.0, "ci_high": 2.0, "p_value": 0.3,
                                "significant": False} for level in "abc"]}
    out = disclosed_results(results, 30)
    hidden = {(r["wave"], r["level"]) for r in out["estimates"] if r.get("suppressed")}
    assert hidden == {("2023", "a"), ("2023", "b")}
    assert all(r["estimate"] is None and r["n"] for r in out["estimates"] if r.get("suppressed"))
    blanked = {r["level"] for r in out["comparisons"] if r.get("suppressed")}
    assert blanked == {"a", "b"}
    assert results["estimates"][1]["estimate"] == 80.0  # the stored results are left alone


# ----------------------------------------------------------------------------- API runs

@pytest.fixture
def tokens(world):
    return {"analyst": make_user("ana", "analyst"), "admin": make_user("root", "admin"),
            "bureau": make_user("hongkou", "bureau", [HONGKOU])}


@pytest.fixture
def threshold(app):
    """A threshold between Hongkou's smallest and largest street of 2024 in the test world."""
    streets = db.session.scalars(sa.select(Response.street_code).join(Wave).where(
        Response.district_code == HONGKOU, Wave.label == "2024")).all()
    counts = pd.Series(streets).value_counts()
    limit = int(counts.min()) + 1
    assert counts.max() >= limit
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = limit
    yield limit
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


def test_a_bureau_run_withholds_small_streets_and_their_complements(client, tokens, threshold):
    response = post_run(client, STREET_SPEC, auth(tokens["bureau"]))
    assert response.status_code == 200, response.get_json()
    conforms(response.get_json(), "Run")
    results = response.get_json()["results"]
    assert results["disclosure"]["suppress_below"] == threshold
    rows = pd.DataFrame(results["estimates"])
    rows["suppressed"] = rows.get("suppressed", pd.Series(dtype=object)).eq(True)
    for (wave, domain), part in rows[rows["domain"] != "all"].groupby(["wave", "domain"]):
        total = int(rows[(rows["wave"] == wave) & (rows["domain"] == "all")]["n"].iloc[0])
        published = part[~part["suppressed"]]
        assert (published["n"] >= threshold).all(), (wave, domain)
        rest = total - published["n"].sum()
        assert rest == 0 or rest >= threshold, (wave, domain)
        assert part.loc[part["suppressed"], ["estimate", "se", "ci_low", "ci_high"]].isna().all(
            axis=None)
    assert rows["suppressed"].any() and (~rows["suppressed"] & (rows["domain"] == "street")).any()
    hidden = set(map(tuple, rows.loc[rows["suppressed"], ["wave", "domain", "level"]].values))
    for change in results["comparisons"]:
        if {(change["from_wave"], change["domain"], change["level"]),
                (change["to_wave"], change["domain"], change["level"])} & hidden:
            assert change["suppressed"] and change["difference"] is None

    run_id = response.get_json()["id"]
    again = client.get(f"/api/v1/runs/{run_id}", headers=auth(tokens["bureau"])).get_json()
    assert again["results"] == results
    as_csv = client.get(f"/api/v1/runs/{run_id}/results?format=csv", headers=auth(tokens["bureau"]))
    table = pd.read_csv(io.BytesIO(as_csv.data), encoding="utf-8-sig")
    assert table["suppressed"].sum() == rows["suppressed"].sum()
    assert table.loc[table["suppressed"], "estimate"].isna().all()
    as_json = client.get(f"/api/v1/runs/{run_id}/results", headers=auth(tokens["bureau"]))
    assert [r["estimate"] for r in as_json.get_json()["estimates"]] == [
        r["estimate"] for r in results["estimates"]]


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_admins_get_full_run_results(client, tokens, threshold, role):
    results = post_run(client, STREET_SPEC, auth(tokens[role])).get_json()["results"]
    assert "disclosure" not in results
    assert all(r["estimate"] is not None for r in results["estimates"] if r["n"] >= 2)


@pytest.mark.parametrize("exclusions, path", [
    ({"policy": "none"}, "exclusions.policy"),
    ({"min_duration_seconds": 200}, "exclusions.min_duration_seconds"),
])
def test_a_bureau_cannot_select_responses_unlike_its_reports(client, tokens, exclusions, path):
    spec = {**STREET_SPEC, "exclusions": exclusions}
    response = post_run(client, spec, auth(tokens["bureau"], "en"))
    assert response.status_code == 422
    assert response.get_json()["problems"][0].startswith(f"{path}: a district bureau's runs")
    analyst = post_run(client, spec, auth(tokens["analyst"]))
    assert analyst.status_code == 200


def test_a_bureau_gets_no_crosstabs_whose_cells_count_small_groups(client, tokens):
    spec = {"waves": ["2024"], "outcomes": ["index"],
            "crosstabs": [{"rows": "band:index", "columns": "sex"}]}
    response = post_run(client, spec, auth(tokens["bureau"], "en"))
    assert response.status_code == 422
    assert response.get_json()["problems"] == [
        "crosstabs: crosstabs count small groups, so they are for analysts and admins; "
        "leave this out"]
    assert db.session.scalar(sa.select(sa.func.count(EstimateRun.id))) == 0


# ----------------------------------------------------------------------------- microdata

@pytest.mark.parametrize("lang, words", [(None, "微观数据"), ("en", "analyst and admin accounts")])
@pytest.mark.parametrize("query", ["", "?include_comments=1", "?format=parquet&lang=en"])
def test_a_bureau_gets_403_for_microdata(client, tokens, lang, words, query):
    response = client.get(f"/api/v1/waves/2023/microdata{query}",
                          headers=auth(tokens["bureau"], lang))
    assert response.status_code == 403 and response.is_json
    assert response.get_json()["error"] == "forbidden" and words in response.get_json()["message"]
    assert response.headers["Content-Language"] == ("en" if lang else "zh-CN")
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
        AuditLog.action == "download.microdata")) == 0


def _microdata(client, token, query=""):
    with client.get(f"/api/v1/waves/2024/microdata?format=parquet{query}",
                    headers=auth(token)) as response:
        assert response.status_code == 200, response.get_json()
        return pq.read_table(io.BytesIO(response.data)).to_pandas()


def _stored_times() -> pd.Series:
    times = db.session.scalars(sa.select(Response.submitted_at).join(Wave).where(
        Wave.label == "2024").order_by(Response.id)).all()
    return pd.to_datetime(pd.Series(times), utc=True)


def test_analysts_microdata_times_are_cut_to_the_local_day_by_default(app, client, tokens):
    table = _microdata(client, tokens["analyst"])
    local = table["submitted_at"].dt.tz_convert(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]))
    assert len(table) == 40
    assert (local.dt.hour == 0).all() and (local.dt.minute == 0).all()
    hourly = _microdata(client, tokens["analyst"], "&time_precision=hour")
    assert (hourly["submitted_at"].dt.minute == 0).all()
    full = _microdata(client, tokens["admin"], "&time_precision=full")
    assert sorted(full["submitted_at"]) == sorted(_stored_times())
    assert full["submitted_at"].nunique() == 40 > hourly["submitted_at"].nunique()
    bad = client.get("/api/v1/waves/2024/microdata?time_precision=minute",
                     headers=auth(tokens["analyst"], "en"))
    assert bad.status_code == 400 and bad.get_json()["message"].startswith("time_precision:")


def test_coarsen_times_refuses_an_unknown_precision():
    frame = pd.DataFrame({"submitted_at": pd.to_datetime(["2024-05-01 23:59:59"], utc=True)})
    with pytest.raises(ValueError, match="time precision"):
        coarsen_times(frame, "week", "Asia/Shanghai")
    # 23:59:59 UTC is 07:59:59 the next morning in Shanghai: the local day is 2 May.
    day = coarsen_times(frame, "day", "Asia/Shanghai")["submitted_at"].iloc[0]
    assert day == pd.Timestamp("2024-05-01 16:00", tz="UTC")


def test_cli_export_cuts_times_unless_asked_and_is_audited(world, runner, tmp_path):
    out = tmp_path / "w.parquet"
    assert runner.invoke(export, ["--wave", "2024", "--format", "parquet", "--output",
                                  str(out)]).exit_code == 0
    times = pq.read_table(out).to_pandas()["submitted_at"].dt.tz_convert("Asia/Shanghai")
    assert (times.dt.hour == 0).all()
    result = runner.invoke(export, ["--wave", "2024", "--format", "parquet", "--output", str(out),
                                    "--time-precision", "full", "--include-comments"])
    assert result.exit_code == 0, result.output
    assert sorted(pq.read_table(out).to_pandas()["submitted_at"]) == sorted(_stored_times())
    entries = _audit("download.microdata")
    assert [(e.actor_name, e.target) for e in entries] == [("cli", "wave:2024")] * 2
    assert "times=day" in entries[0].reason and "comments=1 times=full" in entries[1].reason


# ----------------------------------------------------------------------------- audit

def _audit(action: str) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)
                                   .order_by(AuditLog.id)))


def test_every_api_download_is_audited(client, tokens):
    run = post_run(client, STREET_SPEC, auth(tokens["bureau"])).get_json()
    client.get(f"/api/v1/runs/{run['id']}", headers=auth(tokens["bureau"]))
    client.get(f"/api/v1/runs/{run['id']}/results?format=xlsx", headers=auth(tokens["bureau"]))
    client.get("/api/v1/runs", headers=auth(tokens["bureau"]))  # a listing: no figures
    runs = _audit("download.run")
    assert [(e.actor_name, e.target) for e in runs] == [("hongkou", f"run:{run['id']}")] * 3
    assert [e.reason for e in runs] == ["format=json via=api", "format=json via=api",
                                        "format=xlsx via=api"]
    _microdata(client, tokens["analyst"], "&include_comments=1")
    (entry,) = _audit("download.microdata")
    assert (entry.actor_name, entry.target) == ("ana", "wave:2024")
    assert entry.reason == "format=parquet rows=40 comments=1 times=day via=api"
    assert entry.at is not None


def test_a_refused_download_leaves_no_audit_entry(client, tokens):
    client.get("/api/v1/runs/999", headers=auth(tokens["analyst"]))
    client.get("/api/v1/waves/1999/microdata", headers=auth(tokens["analyst"]))
    assert _audit("download.run") == [] and _audit("download.microdata") == []


def test_cli_estimate_and_report_files_are_audited(world, runner, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"waves": ["2024"], "outcomes": ["index"]}')
    result = runner.invoke(estimate, [str(spec), "--output", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    (run,) = _audit("download.run")
    assert run.actor_name == "cli" and run.reason == "format=csv via=cli"
    result = runner.invoke(report, ["--wave", "2024", "--district", HONGKOU, "--format", "csv",
                                    "--output", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    (entry,) = _audit("download.report")
    assert entry.actor_name == "cli" and entry.target.startswith("wave:")
    assert entry.reason == f"wave_label=2024 district={HONGKOU} format=csv lang=zh via=cli"
