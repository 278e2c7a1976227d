"""The composite index in the app: indicator uploads (every problem with its line and column,
nothing stored on any), the survey component taken from the wave's reported results, and the
CLI, API and admin page built on it. The arithmetic is checked against R in
tests/analysis/test_composite_index.py."""
from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from analysis.composite_index import NORMALISATIONS, WEIGHTINGS
from surveyapp.cli import composite as composite_cli
from surveyapp.extensions import db
from surveyapp.i18n import in_language
from surveyapp.models.indicators import Indicator, IndicatorSet, IndicatorValue
from surveyapp.services.composite import (
    SURVEY_KEY,
    SURVEY_SCORES,
    CompositeError,
    composite_for_wave,
    parse_fixed_weights,
)
from surveyapp.services.indicators import IndicatorUploadError, import_indicators
from surveyapp.services.wave_results import analyse_wave
from tests.web.factories import make_response, make_wave
from tests.web.staff_fixtures import login_as, make_user, staff_client
from tests.web.test_api import make_user as make_api_user

DISTRICTS = ("310101", "310104", "310109", "310110")
SMALL = "310110"  # fewer responses than the threshold: left out
THRESHOLD = 10
GOOD_CSV = """district,indicator,value,unit,direction,target,source,label_zh,label_en
310101,pass_rate,95.1,%,benefit,98,test,抽查合格率,Pass rate
310104,pass_rate,97.2,,,,,,
310109,pass_rate,93.4,,,,,,
310110,pass_rate,96.0,,,,,,
310101,complaints,12.5,per 10000,cost,,test,投诉率,Complaints
310104,complaints,8.1,,,,,,
310109,complaints,15.0,,,,,,
310110,complaints,9.9,,,,,,
"""


@pytest.fixture
def wave(app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEYAPP_SUPPRESS_BELOW", THRESHOLD)
    wave = make_wave("2024", districts=DISTRICTS)
    for number, district in enumerate(DISTRICTS):
        for i in range(4 if district == SMALL else 12):
            make_response(wave, district=district, seed=100 * number + i)
    return wave


def stored() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count(model.id)))
                 for model in (IndicatorSet, Indicator, IndicatorValue))


def test_a_good_csv_is_stored_with_its_descriptions(wave):
    stored_set = import_indicators("test-2024", wave, 2024, GOOD_CSV)
    pass_rate, complaints = stored_set.indicators
    assert (pass_rate.key, pass_rate.unit, pass_rate.direction, pass_rate.target,
            pass_rate.label_zh) == ("pass_rate", "%", "benefit", 98.0, "抽查合格率")
    assert (complaints.direction, complaints.target) == ("cost", None)
    assert [v.value for v in pass_rate.values] == [95.1, 97.2, 93.4, 96.0]
    assert stored() == (1, 2, 8)


BAD_CSV = """district,indicator,value,direction,colour
310101,pass_rate,95.1,benefit,x
999999,pass_rate,97.2,,x
310109,pass_rate,abc,,x
310101,pass_rate,95.5,upwards,x
310101,Bad Key,1,benefit,x
310104,complaints,8.1,,x
"""


def test_every_problem_is_listed_with_line_and_column_and_nothing_is_stored(wave, english):
    before = stored()
    with pytest.raises(IndicatorUploadError) as caught:
        import_indicators("bad", wave, 2024, BAD_CSV)
    assert [str(p) for p in caught.value.problems] == [
        ("line 1, column colour: unknown column; expected some of district, indicator, value, "
        "unit, direction, target, source, label_zh, label_en")]
    with pytest.raises(IndicatorUploadError) as caught:
        import_indicators("bad", wave, 2024, BAD_CSV.replace(",colour", "").replace(",x\n", "\n"))
    assert [str(p) for p in caught.value.problems] == [
        ("line 3, column district: unknown district '999999'; expected a district code of the "
        "geography"),
        "line 4, column value: 'abc' is not a number",
        "line 5, column district: 310101 pass_rate is given twice (first on line 2)",
        ("line 5, column direction: 'upwards' is not a direction; expected benefit (higher is "
        "better) or cost (higher is worse)"),
        ("line 6, column indicator: 'Bad Key' is not an indicator key; expected lower-case "
        "letters, digits and _ (at most 40, starting with a letter, not with 'survey_')"),
    ]
    assert stored() == before


def test_set_wide_problems_coverage_direction_and_name(wave, english):
    import_indicators("taken", wave, 2024, GOOD_CSV)
    text = "district,indicator,value\n310101,a,1\n310104,a,2\n310109,a,3\n310101,b,4\n"
    with pytest.raises(IndicatorUploadError) as caught:
        import_indicators("other", wave, 2024, text)
    assert [str(p) for p in caught.value.problems] == [
        "direction: a: no direction; give benefit or cost on one of its rows",
        "direction: b: no direction; give benefit or cost on one of its rows",
        "value: b has no value for 310104, 310109"]
    with pytest.raises(IndicatorUploadError) as caught:
        import_indicators("taken", wave, "20x4", GOOD_CSV)
    assert [str(p) for p in caught.value.problems] == [
        "name: an indicator set named 'taken' already exists",
        "year: '20x4' is not a year; expected e.g. 2024"]


def test_problems_are_in_chinese_by_default(wave):
    with in_language("zh"):
        with pytest.raises(IndicatorUploadError) as caught:
            import_indicators("bad", wave, 2024, "district,indicator,value\n310101,a,abc\n")
        assert str(caught.value.problems[0]) == "第 2 行，value 列：“abc”不是数字"


def test_the_survey_component_is_the_wave_s_reported_index(wave, english):
    import_indicators("test-2024", wave, 2024, GOOD_CSV)
    composite = composite_for_wave(wave)
    reported = analyse_wave(wave).scores["index"]["estimate"]
    kept = [d for d in DISTRICTS if d != SMALL]
    assert sorted(composite.result.table.index) == kept
    scores = composite.result.scores[SURVEY_KEY]
    low, high = reported[kept].min(), reported[kept].max()
    assert scores.to_dict() == pytest.approx(((reported[kept] - low) / (high - low)).to_dict())
    assert "4 responses, fewer than 10" in composite.left_out[SMALL]
    assert composite.result.contributions.sum(axis=1).to_dict() == pytest.approx(
        composite.result.table["index"].to_dict())


def test_dimension_scores_can_stand_in_for_the_index(wave, english):
    import_indicators("test-2024", wave, 2024, GOOD_CSV)
    composite = composite_for_wave(wave, survey="dimensions")
    reported = analyse_wave(wave)
    dimensions = [d.id for d in reported.questionnaire.dimensions]
    keys = [i.key for i in composite.indicators]
    assert keys == [*(f"survey_{d}" for d in dimensions), "pass_rate", "complaints"]
    assert SURVEY_KEY not in composite.result.scores
    assert composite.result.weights.sum() == pytest.approx(1.0)
    assert SMALL in composite.left_out
    with pytest.raises(CompositeError, match="survey scores: expected one of index, dimensions"):
        composite_for_wave(wave, survey="items")


def test_fixed_weights_and_refusals(wave, english):
    with pytest.raises(CompositeError, match="none uploaded for wave 2024"):
        composite_for_wave(wave)
    import_indicators("test-2024", wave, 2024, GOOD_CSV)
    fixed = parse_fixed_weights("survey_index=2, pass_rate=1; complaints=1")
    composite = composite_for_wave(wave, weighting="fixed", fixed=fixed)
    assert composite.result.weights.to_dict() == pytest.approx(
        {SURVEY_KEY: 0.5, "pass_rate": 0.25, "complaints": 0.25})
    with pytest.raises(CompositeError, match="unknown indicator colour"):
        composite_for_wave(wave, weighting="fixed", fixed={"colour": 1.0})
    with pytest.raises(CompositeError, match="choose fixed"):
        composite_for_wave(wave, weighting="entropy", fixed=fixed)
    with pytest.raises(CompositeError, match="'a=-1' is not KEY=WEIGHT"):
        parse_fixed_weights("a=-1")
    with pytest.raises(CompositeError, match="no set 'nope'"):
        composite_for_wave(wave, set_name="nope")


def test_cli_choices_are_the_analysis_choices():
    assert set(composite_cli.NORMALISATIONS) == set(NORMALISATIONS)
    assert set(composite_cli.WEIGHTINGS) == set(WEIGHTINGS)
    assert composite_cli.SURVEY_SCORES == SURVEY_SCORES


def test_cli_loads_and_ranks(app, wave, runner, tmp_path, english_terminal):
    path = tmp_path / "indicators.csv"
    path.write_text(BAD_CSV.replace(",colour", "").replace(",x\n", "\n"), encoding="utf-8")
    failed = runner.invoke(composite_cli.composite, ["load", str(path), "--wave", "2024",
                                 "--name", "cli-set", "--year", "2024"])
    assert failed.exit_code == 1
    assert "ERROR indicators.csv: line 4, column value: 'abc' is not a number" in failed.output
    assert stored() == (0, 0, 0)
    path.write_text(GOOD_CSV, encoding="utf-8")
    loaded = runner.invoke(composite_cli.composite, ["load", str(path), "--wave", "2024",
                                 "--name", "cli-set", "--year", "2024"])
    assert loaded.exit_code == 0, loaded.output
    assert "Stored cli-set: 2 indicators for wave 2024" in loaded.output
    table = runner.invoke(composite_cli.composite, ["index", "--wave", "2024", "--weights", "critic"])
    assert table.exit_code == 0, table.output
    assert "weights critic" in table.output and f"left out: {SMALL}" in table.output
    chart = tmp_path / "chart.png"
    as_json = runner.invoke(composite_cli.composite, ["index", "--wave", "2024", "--format", "json",
                                  "--chart", str(chart)])
    body = json.loads(as_json.stdout)
    assert [d["rank"] for d in body["districts"]] == sorted(d["rank"] for d in body["districts"])
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_api_for_analysts_not_bureaus(client, wave):
    import_indicators("test-2024", wave, 2024, GOOD_CSV)
    analyst = {"Authorization": f"Bearer {make_api_user('ana', 'analyst')}"}
    bureau = {"Authorization": f"Bearer {make_api_user('hk', 'bureau', ['310109'])}"}
    answer = client.get("/api/v1/composite?wave=2024&weights=critic&normalisation=zscore"
                        "&survey=dimensions", headers=analyst)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["weights"], body["scale"]) == ("critic", "weighted standard score")
    assert len(body["districts"]) == 3 and body["left_out"][0]["district"] == SMALL
    first = body["districts"][0]
    assert set(first["sensitivity"]) == {i["key"] for i in body["indicators"]}
    assert body["survey"] == "dimensions" and len(body["indicators"]) > 3
    assert client.get("/api/v1/composite?wave=2024", headers=bureau).status_code == 403
    assert client.get("/api/v1/composite?wave=1999", headers=analyst).status_code == 404
    assert client.get("/api/v1/composite?wave=2024&weights=ahp",
                      headers=analyst).status_code == 400
    assert client.get("/api/v1/composite?wave=2024&set=nope",
                      headers=analyst).status_code == 422


def csrf(client) -> str:
    import re

    page = client.get("/admin/composite/").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_admin_page_uploads_and_shows_the_index(app, wave):
    client = staff_client(app)
    login_as(client, make_user("admin"))
    db.session.commit()  # the refused upload rolls back the request's session
    form = {"csrf_token": csrf(client), "wave": str(wave.id), "name": "web-set", "year": "2024"}
    refused = client.post("/admin/composite/upload", data={
        **form, "file": (io.BytesIO(b"district,indicator,value\n310101,a,abc\n"), "x.csv")},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "“abc”不是数字" in refused.get_data(as_text=True)
    assert stored() == (0, 0, 0)
    done = client.post("/admin/composite/upload", data={
        **form, "file": (io.BytesIO(GOOD_CSV.encode()), "x.csv")},
        content_type="multipart/form-data")
    assert done.status_code == 302
    page = client.get(done.location).get_data(as_text=True)
    assert "排名 Ranking" in page and "抽查合格率" in page and "−20%" in page
    chart = client.get(f"/admin/composite/{wave.id}/chart.png?weights=critic")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    shown = client.get(f"/admin/composite/?wave={wave.id}&weights=fixed&fixed=a%3D1")
    assert shown.status_code == 200 and "固定权重：未知指标 a" in shown.get_data(as_text=True)
