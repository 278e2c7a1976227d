"""A wave's declared sample design: the same design on every path, R's numbers for each design,
the street rule, and designs that do not fit refused with the wave, stratum and expectation.

Reference values: design_reference/reference.json, written by design_reference/reference.R
(R's survey package; each entry records its svydesign call) from design_reference/streets.csv.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.runs import EstimateRun
from surveyapp.models.survey import District, Wave
from surveyapp.services.estimation import EstimationError, run_spec
from surveyapp.services.declared_design import DeclaredDesign, DesignError, check_declared_design
from surveyapp.services.sample_design import DesignArguments, PreparedDesign, prepare_design
from surveyapp.services.wave_results import analyse_wave
from surveyapp.services.waves import WaveError, create_wave
from surveyapp.specs import spec_from_dict
from tests.web.factories import HONGKOU, make_response, make_wave, sync_shipped

REFERENCE = Path(__file__).parent / "design_reference"
RTOL = 1e-8  # R prints 15 significant digits; the two sums differ in rounding only


def reference_frame() -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / "streets.csv", dtype={"response_id": str, "district": str,
                                                          "street": str})
    return frame.drop(columns="streets_in_district")


def street_counts() -> dict[str, int]:
    frame = pd.read_csv(REFERENCE / "streets.csv", dtype={"district": str})
    return frame.groupby("district")["streets_in_district"].first().to_dict()


def prepared(kind: str, lonely: str = "adjust", frame: pd.DataFrame | None = None,
             counts: dict | None = None) -> PreparedDesign:
    return prepare_design(reference_frame() if frame is None else frame,
                          DeclaredDesign(kind, lonely), wave_label="2024",
                          street_counts=street_counts() if counts is None else counts)


@pytest.mark.parametrize("kind", ["district", "district_street", "street_psu"])
def test_each_declared_design_agrees_with_r(kind):
    expected = json.loads((REFERENCE / "reference.json").read_text())
    design = prepared(kind).survey_design()
    whole = design.mean("index")
    np.testing.assert_allclose([whole.estimate, whole.se],
                               [expected[kind]["mean"], np.ravel(expected[kind]["se"])[0]],
                               rtol=RTOL)
    by_district = design.mean("index", by="district")
    assert list(by_district.index) == expected[kind]["district"]["level"]
    np.testing.assert_allclose(by_district["se"], expected[kind]["district"]["se"], rtol=RTOL)
    np.testing.assert_allclose(by_district["estimate"], expected[kind]["district"]["mean"],
                               rtol=RTOL)


def test_street_estimates_never_take_the_street_as_the_psu():
    """Under street_psu R's own domain SE of a street is only sqrt(n1/N1) of the within-street
    SE (the between-street term is identically 0 for a one-PSU domain); the street rule gives
    the within-street variance, the same as streets-as-strata, as R's survey computes it."""
    expected = json.loads((REFERENCE / "reference.json").read_text())
    design = prepared("street_psu")
    whole_design = design.survey_design().mean("index", by="street")
    np.testing.assert_allclose(whole_design["se"], expected["street_psu"]["street"]["se"],
                               rtol=RTOL)  # what the rule avoids, as R gives it
    street = design.for_domain("street")
    assert street.arguments == DesignArguments("district_street", lonely_psu="adjust")
    by_street = street.survey_design().mean("index", by="street")
    within = expected["district_street"]["street"]
    assert list(by_street.index) == within["level"]
    np.testing.assert_allclose(by_street["se"], within["se"], rtol=RTOL)
    np.testing.assert_allclose(by_street["estimate"], within["mean"], rtol=RTOL)
    # 310109 samples 3 of its 5 streets: the full design's street SE is sqrt(3/5) of the rule's
    np.testing.assert_allclose(whole_design["se"].iloc[:3], by_street["se"].iloc[:3]
                               * np.sqrt(3 / 5), rtol=1e-12)
    # district and city keep the full design; a design without street PSUs is left alone
    assert design.for_domain("district") is design
    assert prepared("district_street").for_domain("street").arguments.strata == "district_street"


def test_a_spec_with_streets_as_psus_gets_nonzero_street_errors():
    """The 1e-15 street SEs of issue 9: psu street without fpc gives 0; the rule does not."""
    frame = reference_frame()
    frame["design_weight"] = 1.0
    override = PreparedDesign("2024", frame, DesignArguments("district", ("street",)),
                              DeclaredDesign(), "spec")
    degenerate = override.survey_design().mean("index", by="street")["se"]
    assert (degenerate < 1e-10).all()
    fixed = override.for_domain("street").survey_design().mean("index", by="street")["se"]
    expected = json.loads((REFERENCE / "reference.json").read_text())
    np.testing.assert_allclose(fixed, expected["district_street"]["street"]["se"], rtol=RTOL)


def test_fail_rule_refuses_a_stratum_with_one_unit_naming_wave_and_stratum():
    frame = reference_frame()
    lonely = frame[frame["street"] == "310109003"].index[1:]
    frame = frame.drop(index=lonely).reset_index(drop=True)  # one response left in a street
    with pytest.raises(DesignError, match=r"wave 2024: stratum 310109/310109003 \(stage 1\) has "
                                          r"a single unit .* expected at least 2 responses"):
        prepared("district_street", "fail", frame)
    with pytest.raises(DesignError, match=r"测评批次2024：层310109/310109003（第2阶段）只有1个单位"):
        prepared("street_psu", "fail", frame)
    prepared("district_street", "adjust", frame)  # the other rules estimate it
    one_street = reference_frame().query("street != '310109002' and street != '310109003'")
    with pytest.raises(DesignError, match=r"stratum 310109 \(stage 1\).*at least 2 streets"):
        prepared("street_psu", "fail", one_street.reset_index(drop=True))
    certain = reference_frame().query("street != '310109002' and street != '310109003'")
    prepared("street_psu", "fail", certain.reset_index(drop=True),
             {"310109": 1, "310110": 2})  # 1 street of 1: a certainty unit, not lonely


def test_missing_frame_counts_and_streets_are_refused():
    with pytest.raises(DesignError, match=r"wave 2024: district 310110 has no frame count of "
                                          r"streets .* expects it for the fpc"):
        prepared("street_psu", counts={"310109": 5})
    with pytest.raises(DesignError, match=r"310109 come from 3 streets, more than the 2"):
        prepared("street_psu", counts={"310109": 2, "310110": 2})
    frame = reference_frame()
    frame.loc[:1, "street"] = None
    for kind in ("district_street", "street_psu"):
        with pytest.raises(DesignError, match=r"wave 2024: 2 responses of district 310109 have "
                                              r"no street; design \w+ expects every response"):
            prepared(kind, frame=frame.copy())
    prepared("district", frame=frame.copy())


@pytest.mark.parametrize("kind, lonely, counts, asks, message", [
    ("cluster", "adjust", {HONGKOU: 8}, True, "sample_design: .*wave 2025: expected one of "
                                                "district, district_street, street_psu"),
    ("district", "drop", {HONGKOU: 8}, True, "lonely_psu: .*expected one of fail, remove"),
    ("street_psu", "adjust", {HONGKOU: 8, "310110": 0}, True,
     "sample_design: .*district 310110 has no streets in the geography; design street_psu "
     "expects its list of streets"),
    ("district_street", "adjust", {HONGKOU: 8}, False, "does not ask for it; expected design "
                                                        "district"),
    ("street_psu", "fail", {HONGKOU: 1}, True, "lonely_psu: .*district 310109 has only 1 street"),
])
def test_declared_design_checks(kind, lonely, counts, asks, message):
    with pytest.raises(DesignError, match=message):
        check_declared_design(kind, lonely, counts, asks, "2025")


def test_describe_in_both_languages():
    design = DeclaredDesign("district_street", "adjust")
    assert design.describe("zh").startswith("区为层、区内各街道为子层")
    assert design.describe("en") == ("districts as strata with streets as strata inside them "
                                     "(every street covered; each response its own unit); a "
                                     "stratum with a single unit: centred at the grand mean "
                                     "(adjust)")


# ----------------------------------------------------------------------------- stored waves


def wave_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Wave))


def test_create_wave_stores_the_design_or_refuses_and_adds_nothing(app):
    version = sync_shipped()["citizen"]
    db.session.add(District(code="310999", name_zh="无街道区", name_en="No streets"))
    db.session.commit()
    opens, closes = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-02-01", tz="UTC")
    made = create_wave("2025", version, [HONGKOU], opens, closes, "open", "street_psu", "fail")
    assert (made.sample_design, made.lonely_psu) == ("street_psu", "fail")
    db.session.commit()
    with pytest.raises(WaveError, match=r"^sample_design: 测评批次2026：区310999在地理文件中没有"
                                        r"街道.* / wave 2026: district 310999 has no streets"):
        create_wave("2026", version, [HONGKOU, "310999"], opens, closes, "open",
                    "district_street")
    db.session.rollback()
    assert wave_count() == 1
    assert create_wave("2027", version, [HONGKOU], opens, closes).sample_design == "district"


def hongkou_wave(design: str, lonely: str, per_street: int = 3) -> Wave:
    wave = make_wave("2024", districts=[HONGKOU], sample_design=design, lonely_psu=lonely)
    streets = [s.code for s in db.session.get(District, HONGKOU).streets]
    for i, street in enumerate(streets):
        for j in range(per_street if i else 1):  # the first street: one response
            make_response(wave, district=HONGKOU, street=street, seed=100 * i + j)
    return wave


def test_a_lonely_stratum_under_fail_is_refused_by_reports_runs_and_the_api(app):
    hongkou_wave("district_street", "fail")
    first_street = db.session.get(District, HONGKOU).streets[0].code
    with pytest.raises(DesignError, match=rf"wave 2024: stratum {HONGKOU}/{first_street} "
                                          r"\(stage 1\) has a single unit"):
        analyse_wave(db.session.scalar(sa.select(Wave)))
    with pytest.raises(EstimationError, match=rf"测评批次2024：层{HONGKOU}/{first_street}"):
        run_spec(spec_from_dict({"waves": ["2024"]}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EstimateRun)) == 0
    # a spec may override the wave's design, and the run says so
    outcome = run_spec(spec_from_dict({"waves": ["2024"], "design": {"psu": None,
                                                                     "lonely_psu": "adjust"}}))
    assert outcome.results["waves"]["2024"]["design"]["source"] == "spec"
    assert outcome.results["waves"]["2024"]["design"]["declared"] == "district_street"


def test_street_psu_wave_gives_street_estimates_a_within_street_variance(app):
    hongkou_wave("street_psu", "adjust", per_street=6)
    outcome = run_spec(spec_from_dict({"waves": ["2024"], "domains": ["street"]}))
    streets = outcome.table[outcome.table["domain"] == "street"].set_index("level")
    assert (streets.loc[streets["n"] > 1, "se"] > 1e-6).all()  # one response: no spread to see
    note = outcome.results["waves"]["2024"]["design"]
    assert (note["source"], note["declared"], note["psu"]) == (
        "wave", "street_psu", ["street", "response_id"])
    results = analyse_wave(db.session.scalar(sa.select(Wave)))
    np.testing.assert_allclose(results.streets["se"], streets.loc[results.streets.index, "se"],
                               rtol=1e-12)
    strata = run_spec(spec_from_dict({"waves": ["2024"], "domains": ["street"], "design": {
        "strata": "street", "psu": None, "lonely_psu": "adjust"}}))  # street codes are unique
    same = strata.table[strata.table["domain"] == "street"].set_index("level")
    np.testing.assert_allclose(streets["se"], same.loc[streets.index, "se"], rtol=1e-12)


# ----------------------------------------------------------------------------- every path


def test_every_demo_wave_reports_what_estimate_gives_with_the_default_spec(runner, tmp_path):
    """Headline (index by district and city), dimension and street figures of the reports
    equal `surveyapp estimate` with a spec that names no design, to 1e-12."""
    from surveyapp.cli.demo import demo
    from surveyapp.cli.estimate import estimate
    from surveyapp.services.demo_plan import DEMO_PLAN_WAVE
    from surveyapp.services.reporting import build_district_report
    from surveyapp.services.wave_results import CITY

    result = runner.invoke(demo, ["--no-serve", "--per-district", "30", "--seed", "3"])
    assert result.exit_code == 0, result.output
    waves = [w for w in db.session.scalars(sa.select(Wave).order_by(Wave.id))
             if w.label != DEMO_PLAN_WAVE]  # the planned wave is scheduled: nothing to report
    assert {w.sample_design for w in waves} == {"district_street", "street_psu"}
    for wave in waves:
        key = wave.questionnaire_version.key
        results = analyse_wave(wave)
        margins = results.weighting.margin_set
        spec = {"waves": [wave.label], "questionnaire": key, "outcomes": ["index", "dimensions"],
                "domains": ["district", "street"],
                "weighting": {"method": "rake", "margins": margins} if margins else {}}
        path = tmp_path / f"{key}-{wave.label}.json"
        path.write_text(json.dumps(spec))
        out = tmp_path / f"{key}-{wave.label}-results.json"
        ran = runner.invoke(estimate, [str(path), "--output", str(out)])
        assert ran.exit_code == 0, ran.output
        assert f"declared sample design {wave.sample_design}" in ran.output or \
            f"声明的抽样设计 {wave.sample_design}" in ran.output
        table = pd.DataFrame(json.loads(out.read_text())["estimates"])
        table = table.set_index(["outcome", "domain", "level"]).sort_index()
        columns = ["estimate", "se", "ci_low", "ci_high"]
        for column, name in [("index", "index"), *((f"dim_{d.id}", f"dimension:{d.id}")
                                                    for d in results.questionnaire.dimensions)]:
            report = results.scores[column]
            districts = table.loc[(name, "district")].loc[report.index.drop(CITY)]
            np.testing.assert_allclose(report.drop(CITY)[columns], districts[columns],
                                       rtol=1e-12, err_msg=f"{key} {wave.label} {column}")
            np.testing.assert_allclose(report.loc[CITY, columns].astype(float),
                                       table.loc[(name, "all", "all"), columns].astype(float),
                                       rtol=1e-12)
        streets = table.loc[("index", "street")].loc[results.streets.index]
        shown = results.streets["se"].notna()
        np.testing.assert_allclose(results.streets.loc[shown, columns],
                                   streets.loc[shown, columns].astype(float), rtol=1e-12)
        headline = build_district_report(wave, HONGKOU, "en").headline.estimate
        np.testing.assert_allclose([headline.value, headline.ci_low, headline.ci_high],
                                   table.loc[("index", "district", HONGKOU), ["estimate",
                                             "ci_low", "ci_high"]].astype(float), rtol=1e-12)


@pytest.mark.parametrize("lang, text", [
    ("zh", "区内抽取街道为初级抽样单位（按街道总数作有限总体校正），街道内抽取居民；单一单位的层："
           "以总体均值为中心（adjust）。"),
    ("en", "streets sampled as PSUs within district strata (fpc from the district's street "
           "count), residents sampled within streets; a stratum with a single unit: centred at "
           "the grand mean (adjust). Taylor"),
])
def test_the_report_method_section_states_the_declared_design(app, lang, text):
    from surveyapp.reports.tables import report_tables
    from surveyapp.services.reporting import build_district_report

    wave = hongkou_wave("street_psu", "adjust")
    report = build_district_report(wave, HONGKOU, lang)
    assert report.method.design.startswith(text)
    (method,) = [t for t in report_tables(report) if t.id == "method"]
    assert any(report.method.design in str(cell) for row in method.rows for cell in row)


def admin_client(app):
    from tests.web.staff_fixtures import login_as, make_user, staff_client

    sync_shipped()
    client = staff_client(app)
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()
    return client


def post_wave(client, **fields):
    page = client.get("/admin/waves/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    version = sync_shipped()["citizen"].id
    data = {"label": "2025", "questionnaire": version, "districts": [HONGKOU],
            "opens_at": "2025-05-01T00:00", "closes_at": "2025-06-01T00:00", "mode": "open",
            "csrf_token": token, **fields}
    return page, client.post("/admin/waves/new", data=data)


def test_admin_chooses_the_design_when_creating_a_wave(app):
    client = admin_client(app)
    page, response = post_wave(client, sample_design="district_street", lonely_psu="fail")
    assert "抽样设计 Sample design" in page and 'value="street_psu"' in page
    assert response.status_code == 302
    made = db.session.scalar(sa.select(Wave))
    assert (made.sample_design, made.lonely_psu) == ("district_street", "fail")


@pytest.mark.parametrize("fields, message", [
    ({"sample_design": "cluster"}, "不是有效的选择"),
    ({"lonely_psu": "drop"}, "不是有效的选择"),
    ({"sample_design": "street_psu", "districts": [HONGKOU, "310999"]},
     "wave 2025: district 310999 has no streets in the geography; design street_psu expects"),
])
def test_admin_is_told_why_a_design_does_not_fit_and_nothing_is_stored(app, fields, message):
    client = admin_client(app)
    db.session.add(District(code="310999", name_zh="无街道区", name_en="No streets"))
    db.session.commit()
    _page, response = post_wave(client, **fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert wave_count() == 0


def test_cli_creates_a_wave_with_its_design_or_refuses_it(app, runner):
    from surveyapp.cli.waves import wave as wave_command

    sync_shipped()
    db.session.add(District(code="310999", name_zh="无街道区", name_en="No streets"))
    db.session.commit()
    arguments = ["create", "--label", "2025", "--questionnaire", "citizen", "--district", HONGKOU,
                 "--opens", "2025-05-01", "--closes", "2025-06-01 12:00"]
    refused = runner.invoke(wave_command, [*arguments, "--district", "310999",
                                           "--sample-design", "district_street"])
    assert refused.exit_code == 1
    assert "sample_design: 测评批次2025：区310999在地理文件中没有街道" in refused.output
    assert "wave 2025: district 310999 has no streets in the geography" in refused.output
    assert wave_count() == 0
    made = runner.invoke(wave_command, [*arguments, "--sample-design", "street_psu",
                                        "--lonely-psu", "fail"])
    assert made.exit_code == 0, made.output
    assert "sample design street_psu, lonely PSU fail" in made.output
    stored = db.session.scalar(sa.select(Wave))
    assert (stored.sample_design, stored.lonely_psu) == ("street_psu", "fail")
    bad = runner.invoke(wave_command, [*arguments, "--sample-design", "cluster"])
    assert bad.exit_code == 2 and "'cluster' is not one of" in bad.output


@pytest.mark.parametrize("fmt", ["csv", "dta"])
def test_load_responses_and_exports_carry_the_declared_design(app, runner, tmp_path, fmt):
    from analysis import SurveyDesign
    from surveyapp.cli.export import export
    from surveyapp.data import load_responses

    hongkou_wave("street_psu", "adjust", per_street=4)
    df = load_responses("2024")
    assert df.attrs["design"] == {
        "weights": "weight", "strata": "district", "psu": ["street", "response_id"],
        "fpc": ["streets_in_district", "residents_in_street"], "lonely_psu": "adjust"}
    assert df.attrs["street_design"]["strata"] == "district_street"
    assert (df["streets_in_district"] == 8).all()  # Hongkou's streets in the geography
    whole = SurveyDesign(df, **df.attrs["design"]).mean("index")
    by_street = SurveyDesign(df, **df.attrs["street_design"]).mean("index", by="street")
    runs = run_spec(spec_from_dict({"waves": ["2024"], "domains": ["street"]})).table
    np.testing.assert_allclose([whole.estimate, whole.se],
                               runs.loc[runs["domain"] == "all", ["estimate", "se"]].iloc[0],
                               rtol=1e-12)
    np.testing.assert_allclose(by_street["se"], runs.loc[runs["domain"] == "street", "se"],
                               rtol=1e-12)
    out = tmp_path / f"w.{fmt}"
    result = runner.invoke(export, ["--wave", "2024", "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.output
    snippet = (tmp_path / f"w.{fmt}.R").read_text()
    assert "d$residents_in_street <- Inf" in snippet
    assert ("svydesign(ids = ~street + response_id, strata = ~district, fpc = "
            "~streets_in_district + residents_in_street, weights = ~weight") in snippet
    assert 'options(survey.lonely.psu = "adjust")' in snippet
    assert "street_des <- svydesign(ids = ~1, strata = ~district_street" in snippet


def test_stata_and_spss_snippets_set_the_declared_design(app, runner, tmp_path):
    from surveyapp.cli.export import export

    hongkou_wave("street_psu", "adjust", per_street=4)
    for fmt in ("dta", "sav"):
        result = runner.invoke(export, ["--wave", "2024", "--format", fmt,
                                        "--output", str(tmp_path / f"w.{fmt}")])
        assert result.exit_code == 0, result.output
    stata = (tmp_path / "w.dta.do").read_text()
    assert ("svyset street [pweight=weight], strata(district) fpc(streets_in_district) "
            "|| response_id, singleunit(centered)") in stata
    assert "svyset _n [pweight=weight], strata(district_street) singleunit(centered)" in stata
    assert "svy: mean index, over(district)" in stata
    spss = (tmp_path / "w.sav.sps").read_text()
    assert ("  /DESIGN STRATA=district CLUSTER=street\n  /ESTIMATOR TYPE=EQUAL_WOR\n"
            "  /POPSIZE VARIABLE=streets_in_district\n  /DESIGN CLUSTER=response_id\n"
            "  /ESTIMATOR TYPE=WR.") in spss
    assert not (tmp_path / "w.dta.sps").exists() and not (tmp_path / "w.sav.do").exists()


def test_api_runs_use_the_declared_design_and_never_give_street_errors_of_zero(app, client):
    from tests.web.test_api import auth, make_user, post_run

    hongkou_wave("street_psu", "adjust", per_street=4)
    token = make_user("ana", "analyst")
    runs = []
    for design in (None, {"psu": "street", "lonely_psu": "adjust"}):  # the psu street
        spec = {"waves": ["2024"], "domains": ["street"], **({"design": design} if design else {})}
        response = post_run(client, spec, auth(token, "en"))
        assert response.status_code == 200, response.get_json()
        runs.append(response.get_json()["results"])
    assert runs[0]["waves"]["2024"]["design"]["source"] == "wave"
    assert runs[1]["waves"]["2024"]["design"]["source"] == "spec"
    for results in runs:
        streets = [r for r in results["estimates"] if r["domain"] == "street" and r["n"] > 1]
        assert len(streets) == 7 and all(r["se"] > 1e-6 for r in streets)
        assert all(r["ci_high"] - r["ci_low"] > 1e-6 for r in streets)


def test_api_refuses_a_design_that_does_not_fit_and_records_no_run(app, client):
    from tests.web.test_api import auth, make_user, post_run

    hongkou_wave("district_street", "fail")
    token = make_user("ana", "analyst")
    response = post_run(client, {"waves": ["2024"]}, auth(token, "en"))
    assert response.status_code == 422
    body = response.get_json()
    assert "wave 2024: stratum 310109/" in json.dumps(body, ensure_ascii=False)
    assert "expected at least 2 responses per stratum" in json.dumps(body)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EstimateRun)) == 0
    spec = {"waves": ["2024"], "domains": ["street"], "design": {"strata": "district",
                                                                 "psu": None}}
    response = post_run(client, spec, auth(token, "en"))
    assert response.status_code == 200  # the spec's own design, without street strata
    spec["design"]["psu"] = "street"  # lonely_psu fail: the street rule's strata are lonely
    response = post_run(client, spec, auth(token, "en"))
    assert response.status_code == 422
    assert response.get_json()["message"].startswith("domains: street: 测评批次2024：层310109/")


def test_estimate_says_when_a_spec_overrides_the_wave_design(app, runner, tmp_path,
                                                            english_terminal):
    from surveyapp.cli.estimate import estimate

    hongkou_wave("district_street", "adjust")
    spec = tmp_path / "spec.yaml"
    spec.write_text("waves: ['2024']\ndesign: {psu: street, lonely_psu: adjust}\n")
    result = runner.invoke(estimate, [str(spec)])
    assert result.exit_code == 0, result.output
    assert ("wave 2024: the spec's design (strata district, psu street, lonely PSU adjust) "
            "overrides the wave's declared design district_street") in result.output
    spec.write_text("waves: ['2024']\n")
    result = runner.invoke(estimate, [str(spec)])
    assert ("wave 2024: the wave's declared sample design district_street (lonely PSU: "
            "adjust)") in result.output
