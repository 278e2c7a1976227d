"""District and city reports built from stored responses agree with the analysis engine."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime

import pytest
from openpyxl import load_workbook

from analysis.trends import difference
from surveyapp.extensions import db
from surveyapp.localtime import from_local
from surveyapp.models.survey import Street
from surveyapp.reports.safety import csv_text
from surveyapp.reports.wording import date
from surveyapp.services.report_cache import report_document
from surveyapp.services.reporting import build_city_report, build_district_report
from tests.reports.sample import INJECTION, csv_tables, csv_zip
from tests.web.factories import HONGKOU, questionnaire_for
from tests.web.report_data import (
    SUPPRESS_BELOW,
    YANGPU,
    engine_design,
    engine_margins,
    make_report_waves,
    store_test_margins,
)

poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                             reason="poppler-utils (pdftoppm, pdftotext) is not installed")


@pytest.fixture
def waves(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = SUPPRESS_BELOW
    yield make_report_waves()
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


def _sheet(document: bytes, name: str) -> list[dict]:
    sheet = load_workbook(io.BytesIO(document))[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def _summary(document: bytes) -> dict:
    return {row["Figure"]: row["Value"] for row in _sheet(document, "Summary")}


def test_workbook_figures_are_the_engines(waves):
    design = engine_design(waves.current)
    earlier = engine_design(waves.earlier)
    document = report_document(waves.current, HONGKOU, "en", "xlsx")

    index = design.mean("index", by="district").loc[HONGKOU]
    summary = _summary(document)
    assert summary["Satisfaction index"] == pytest.approx(index["estimate"], rel=1e-9)
    assert summary["95% CI low"] == pytest.approx(index["ci_low"], rel=1e-9)
    assert summary["95% CI high"] == pytest.approx(index["ci_high"], rel=1e-9)
    assert summary["City mean"] == pytest.approx(design.mean("index").estimate, rel=1e-9)
    change = difference(design.mean("index", by="district"),
                        earlier.mean("index", by="district")).loc[HONGKOU]
    (row,) = _sheet(document, "Change against earlier waves")
    assert row["Compared with"] == "2023"
    assert row["Change"] == pytest.approx(change["estimate"], rel=1e-9)
    assert row["p"] == pytest.approx(change["p_value"], rel=1e-9)
    dimensions = _sheet(document, "Dimension scores")
    for entry in dimensions:
        expected = design.mean(f"dim_{entry['Code']}", by="district").loc[HONGKOU]
        assert entry["Score"] == pytest.approx(expected["estimate"], rel=1e-9)
        assert entry["95% CI high"] == pytest.approx(expected["ci_high"], rel=1e-9)
    assert len(dimensions) == 3 and all(isinstance(e["Score"], float) for e in dimensions)


def test_weighted_report_rakes_to_the_uploaded_margins(waves):
    store_test_margins(waves.current)
    report = build_district_report(waves.current, HONGKOU, "en")

    raked = engine_design(waves.current, engine_margins())
    expected = raked.mean("index", by="district").loc[HONGKOU]
    assert report.headline.estimate.value == pytest.approx(expected["estimate"], rel=1e-9)
    assert report.headline.estimate.se == pytest.approx(expected["se"], rel=1e-9)
    weighting = report.method.weighting
    assert weighting.weighted and weighting.margin_set == "census-test" and weighting.converged
    assert weighting.note is None
    assert len(weighting.margins) == 6  # 2 sexes and 4 age groups of Hongkou
    for margin in weighting.margins:
        assert margin.achieved == pytest.approx(margin.target, abs=1.0)


@poppler
def test_unweighted_fallback_is_stated_in_the_pdf(waves, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_document(waves.current, HONGKOU, "en", "pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "figures are unweighted" in " ".join(text.split())


@poppler
def test_chinese_pdf_pages_carry_the_district_and_its_score(waves, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_document(waves.current, HONGKOU, "zh", "pdf"))
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    index = engine_design(waves.current).mean("index", by="district").loc[HONGKOU, "estimate"]
    assert len(list(tmp_path.glob("page-*.png"))) >= 3
    first = text.split("\f")[0]
    assert "虹口区" in first and f"{index:.2f}" in first and "在2个区中排名第" in first


def test_streets_below_the_threshold_are_marked_and_never_shown(waves):
    design = engine_design(waves.current)
    document = report_document(waves.current, HONGKOU, "en", "xlsx")
    streets = {row["Code"]: row for row in _sheet(document, "Scores by street")}

    shown, hidden = streets[waves.shown_street], streets[waves.hidden_street]
    expected = design.mean("index", by="street").loc[waves.shown_street]
    assert shown["Score"] == pytest.approx(expected["estimate"], rel=1e-9)
    assert hidden["Responses"] == 4
    assert hidden["Note"] == f"fewer than {SUPPRESS_BELOW} responses: not shown"
    assert hidden["Score"] is None and hidden["Std. error"] is None
    assert hidden["95% CI low"] is None
    complement = streets[waves.complement_street]
    assert complement["Responses"] == 10
    assert complement["Note"] == "withheld so that a smaller street cannot be derived"
    assert complement["Score"] is None and complement["95% CI low"] is None
    assert shown["Note"] is None and isinstance(shown["Score"], float)
    by_street = design.mean("index", by="street")
    files = csv_zip(report_document(waves.current, HONGKOU, "en", "csv"))
    text = b"".join(files.values()).decode("utf-8", errors="replace")
    for street in (waves.hidden_street, waves.complement_street):
        assert f"{by_street.loc[street, 'estimate']:.4f}" not in text


def test_the_suppressed_street_cannot_be_derived_from_the_district_figure(waves):
    """District total minus every published street leaves at least the threshold's worth of
    responses, never the suppressed street alone (complementary suppression)."""
    report = build_district_report(waves.current, HONGKOU, "en")
    published = sum(s.n for s in report.streets if not s.suppressed)
    assert 0 < report.headline.estimate.n - published
    assert report.headline.estimate.n - published >= SUPPRESS_BELOW
    assert {s.code for s in report.streets if s.suppressed and s.n} == {
        waves.hidden_street, waves.complement_street}


def test_a_small_district_and_its_complement_leave_the_district_tables(app, waves):
    """With Yangpu (12 responses) under a limit of 13, Hongkou goes too as its complement:
    the city report keeps only its total, and each district's report only its own row and no
    city mean (else city minus Hongkou would give Yangpu)."""
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 13
    city = build_city_report(waves.current, "en")
    assert city.districts == () and city.headline.estimate.n == 38
    assert "districts" not in {chart.id for chart in city.charts}
    for own, other in ((HONGKOU, YANGPU), (YANGPU, HONGKOU)):
        report = build_district_report(waves.current, own, "en")
        assert [row.code for row in report.districts] == [own]
        assert report.headline.city_mean is None and report.headline.rank_of == 1
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 12  # Yangpu published, 2023 districts too
    report = build_district_report(waves.current, HONGKOU, "en")
    assert {row.code for row in report.districts} == {HONGKOU, YANGPU}
    assert report.headline.city_mean is not None
    assert all(change is not None for row in report.districts for change in row.changes)


def test_uploaded_names_stay_text_in_excel_and_csv(waves):
    db.session.get(Street, waves.shown_street).name_en = INJECTION
    db.session.commit()
    document = report_document(waves.current, HONGKOU, "en", "xlsx")
    sheet = load_workbook(io.BytesIO(document))["Scores by street"]
    cell = next(c for c in sheet["B"] if c.value == INJECTION)
    assert cell.data_type == "s"
    streets = csv_tables(report_document(waves.current, HONGKOU, "en", "csv"))["streets"]
    assert csv_text(INJECTION) in {row["Street"] for row in streets}


def test_city_report_ranks_districts_with_their_changes(waves):
    design = engine_design(waves.current)
    report = build_city_report(waves.current, "zh")

    by_district = design.mean("index", by="district")
    ranked = list(by_district.sort_values("estimate", ascending=False).index)
    assert [row.code for row in report.districts] == ranked
    assert [row.label for row in report.districts if row.code == HONGKOU] == ["虹口区"]
    assert report.headline.estimate.value == pytest.approx(design.mean("index").estimate, rel=1e-9)
    assert all(len(row.changes) == 1 and row.changes[0].earlier_wave == "2023"
               for row in report.districts)
    document = report_document(waves.current, None, "en", "xlsx")
    rows = _sheet(document, "Districts ranked")
    assert [r["Code"] for r in rows] == ranked and [r["Rank"] for r in rows] == [1, 2]
    assert {YANGPU, HONGKOU} == set(ranked)


def test_the_report_names_things_as_people_know_them(waves):
    """Beijing dates, the questionnaire's title and version, short variable names, reverse
    scoring marked, and the questionnaire's own bands."""
    waves.current.opens_at = from_local(datetime(2024, 9, 1, 0, 0))  # 2024-08-31 16:00 UTC
    db.session.commit()
    store_test_margins(waves.current)
    questionnaire = questionnaire_for(waves.current)
    for lang, variables, mark in (("en", {"Sex", "Age group"}, " (reverse-scored)"),
                                  ("zh", {"性别", "年龄组"}, "（反向计分）")):
        report = build_district_report(waves.current, HONGKOU, lang)
        method = report.method
        assert date(method.wave_opens) == "2024-09-01"
        assert method.time_zone == ("Beijing time" if lang == "en" else "北京时间") + \
            ", UTC+08:00"
        assert method.questionnaire_version == questionnaire.version
        assert {m.variable for m in method.weighting.margins} == variables
        assert {m.category for m in method.weighting.margins} >= (
            {"Male", "Female"} if lang == "en" else {"男", "女"})
        marked = {r.code for r in report.items if r.label.endswith(mark)}
        assert marked == {i.id for i in questionnaire.items if i.reverse} and marked
        assert method.reverse_scored
        assert [(b.lower, b.upper) for b in method.bands] == [
            (b.lower, b.upper) for b in questionnaire.bands]
    files = csv_tables(report_document(waves.current, HONGKOU, "zh", "csv"))
    method_rows = {row["项目"]: row["数值"] for row in files["method"]}
    assert method_rows["测评期"].startswith("2024-09-01 – ")
    assert method_rows["问卷及版本"] == f"{questionnaire.title.zh}（{questionnaire.version}版）"
    assert len(files["bands"]) == len(questionnaire.bands)
