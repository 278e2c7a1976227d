"""The latent-index section in every edition: PDF text, Excel sheets, CSV sections, page view;
and a report without the section (None) or without figures (the reason)."""
from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from surveyapp.reports.csv import build_csv
from surveyapp.reports.excel import build_workbook
from surveyapp.reports.latent_section import LatentRow, LatentSection, page_view
from surveyapp.reports.model import Chart
from surveyapp.reports.pdf import build_pdf
from tests.reports.sample import _png, csv_zip, sample_report

ROWS = (LatentRow("product", "产品质量", 0.266, 0.05, 0.318, 0.287, 84.08, 0.81, "surplus"),
        LatentRow("service", "公共服务与管理质量", 0.308, 0.05, 0.368, 0.338, 82.96, 0.70, "improve"),
        LatentRow("housing", "房屋与基础设施质量", 0.263, 0.05, 0.314, 0.286, 82.39, 0.71,
                  "secondary"))
SECTION = LatentSection(index=83.1417, se=0.69, ci_low=81.79, ci_high=84.49, overall=85.11,
                        r_squared=0.545, n=208, replicates=200, rows=ROWS, chart_id="latent_ipa")


def with_section(lang: str, section: LatentSection = SECTION):
    report = sample_report(lang)
    charts = (*report.charts, Chart("latent_ipa", "IPA", _png()))
    return dataclasses.replace(report, charts=charts, latent_index=section)


def pdf_text(report) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    text = subprocess.run(["pdftotext", "-", "-"], input=build_pdf(report), check=True,
                          capture_output=True).stdout.decode()
    return " ".join(text.split())  # table cells wrap where their column is narrow


def csv_text(report) -> str:
    """Every file of the CSV edition (a zip of tables) as one text."""
    return "\n".join(data.decode("utf-8-sig") for data in csv_zip(build_csv(report)).values())


@pytest.mark.parametrize("lang, heading, quadrant", [
    ("zh", "潜变量满意度指数", "修补区"), ("en", "Latent satisfaction index", "concentrate here")])
def test_pdf_shows_index_dimensions_and_quadrants(lang, heading, quadrant):
    text = pdf_text(with_section(lang))
    assert heading in text and "83.14" in text and "81.79" in text and quadrant in text


def test_spreadsheets_hold_the_figures_as_numbers():
    book = load_workbook(io.BytesIO(build_workbook(with_section("en"))))
    summary, dimensions = book["Latent index"], book["Latent model dimensions"]
    assert summary["A2"].value == pytest.approx(83.1417)
    assert [c.value for c in dimensions["A"]][1:] == [r.label for r in ROWS]
    assert dimensions["F3"].value == pytest.approx(82.96)
    all_csv = csv_text(with_section("en"))
    assert "Latent model dimensions" in all_csv and "83.1417" in all_csv


def test_without_figures_the_reason_is_given_and_without_section_nothing():
    reason = "90 responses, fewer than the 100 the latent index needs"
    report = with_section("en", LatentSection(unavailable=reason))
    assert reason in pdf_text(report)
    assert reason in csv_text(report)
    assert page_view(report)["unavailable"].endswith(reason)
    plain = sample_report("en")
    assert plain.latent_index is None and page_view(plain) is None
    assert "Latent" not in csv_text(plain)
