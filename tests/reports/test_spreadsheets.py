"""Excel and CSV: one table per sheet/section, numbers as numbers, respondent text stays inert."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from surveyapp.reports.csv import build_csv
from surveyapp.reports.excel import build_workbook
from surveyapp.reports.safety import csv_text, is_formula_like
from tests.reports.sample import INJECTION, sample_report


def _workbook(report):
    return load_workbook(io.BytesIO(build_workbook(report)))


def _csv_sections(report) -> dict[str, list[list[str]]]:
    text = build_csv(report).decode("utf-8-sig")
    sections: dict[str, list[list[str]]] = {}
    blocks = text.split("\r\n\r\n")
    for block in blocks[1:]:
        rows = list(csv.reader(io.StringIO(block)))
        sections[rows[0][0]] = rows[1:]
    return sections


def test_one_sheet_per_table_with_formatted_headers():
    book = _workbook(sample_report("en"))
    assert book.sheetnames == ["Summary", "Change against earlier waves", "Dimension scores",
                               "Item scores", "Scores by street", "Method", "Weighting margins",
                               "Charts"]
    header = book["Dimension scores"]["A1"]
    assert header.font.bold and header.fill.fgColor.rgb.endswith("1F4E79")
    assert book["Dimension scores"].freeze_panes == "A2"


def test_scores_are_numbers_with_full_precision():
    report = sample_report("en")
    sheet = _workbook(report)["Dimension scores"]
    headers = [c.value for c in sheet[1]]
    row = [c for c in sheet[2]]
    score = row[headers.index("Score")]
    assert score.data_type == "n" and score.number_format == "0.00"
    assert score.value == report.dimensions[0].estimate.value
    assert row[headers.index("95% CI low")].value == report.dimensions[0].estimate.ci_low
    change = row[headers.index("Change vs 2017")]
    assert change.value == pytest.approx(report.dimensions[0].changes[1].difference)
    assert change.fill.fgColor.rgb.endswith("FFF2CC")  # significant: highlighted


def test_suppressed_street_is_marked_not_shown():
    report = sample_report("zh")
    sheet = _workbook(report)["分街道（镇）得分"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    suppressed = next(r for r in rows if r[2] == 25)
    assert suppressed[3] == "不足30份，不予显示" and suppressed[4:] == (None, None, None)
    shown = [r for r in rows if r[2] == 300]
    assert len(shown) == 7 and all(isinstance(r[3], (int, float)) for r in shown)


def test_formula_text_stays_text_in_excel():
    sheet = _workbook(sample_report("en"))["Scores by street"]
    cell = next(c for c in sheet["B"] if c.value == INJECTION)
    assert cell.data_type == "s" and cell.quotePrefix


def test_csv_sections_numbers_and_injection():
    report = sample_report("en")
    sections = _csv_sections(report)
    assert list(sections) == ["Summary", "Change against earlier waves", "Dimension scores",
                              "Item scores", "Scores by street", "Method", "Weighting margins"]
    header, *rows = sections["Dimension scores"]
    expected = report.dimensions[0].estimate.value
    assert float(rows[0][header.index("Score")]) == pytest.approx(expected)
    streets = sections["Scores by street"][1:]
    injected = next(r for r in streets if r[1].endswith('"click")'))
    assert injected[1] == "'" + INJECTION and injected[3] == "fewer than 30 responses: not shown"


def test_csv_opens_in_excel_as_utf8():
    assert build_csv(sample_report("zh")).startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_every_formula_trigger_is_neutralised(text):
    assert is_formula_like(text) and csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["虹口区", "北外滩 = 好", "90.24", ""])
def test_plain_text_is_left_alone(text):
    assert csv_text(text) == text
