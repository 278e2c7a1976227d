"""Excel and CSV: one table per sheet/section, numbers as numbers, respondent text stays inert."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from surveyapp.reports.csv import build_csv
from surveyapp.reports.excel import build_workbook
from surveyapp.reports.safety import csv_text, is_formula_like
from tests.reports.sample import INJECTION, csv_tables, csv_zip, sample_report


def _workbook(report):
    return load_workbook(io.BytesIO(build_workbook(report)))


def test_one_sheet_per_table_with_formatted_headers():
    book = _workbook(sample_report("en"))
    assert book.sheetnames == ["Summary", "Change against earlier waves", "Dimension scores",
                               "Item scores", "Scores by street", "Method", "Bands",
                               "Weighting margins", "Charts"]
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


def test_suppressed_street_is_empty_with_its_reason_in_the_note_column():
    report = sample_report("zh")
    sheet = _workbook(report)["分街道（镇）得分"]
    assert [c.value for c in sheet[1]][-1] == "备注"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    suppressed = next(r for r in rows if r[2] == 25)
    assert suppressed[3:7] == (None, None, None, None) and suppressed[7] == "不足30份，不予显示"
    shown = [r for r in rows if r[2] == 300]
    assert len(shown) == 7 and all(isinstance(v, int | float) for r in shown for v in r[3:7])
    assert all(r[7] is None for r in shown)


def test_every_figure_has_a_number_format():
    """No cell is left in General format: scores 0.00, p-values 0.000, counts #,##0."""
    for sheet in _workbook(sample_report("en")):
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):
                    assert cell.number_format in ("0.00", "0.000"), (sheet.title, cell.coordinate)
                elif isinstance(cell.value, int):
                    assert cell.number_format in ("#,##0", "0.00"), (sheet.title, cell.coordinate)


def test_summary_names_the_number_of_districts_ranked():
    rows = dict(_workbook(sample_report("en"))["Summary"].iter_rows(min_row=2, values_only=True))
    assert rows["Rank"] == 3 and rows["Districts ranked"] == 16 and "District" not in rows


def test_trend_and_district_charts_are_native_excel_charts():
    report = sample_report("en")
    sheet = _workbook(report)["Charts"]
    kinds = sorted(type(chart).__name__ for chart in sheet._charts)
    assert kinds == ["BarChart", "LineChart"] and len(sheet._images) == 2
    values = [row for row in sheet.iter_rows(values_only=True) if row[0] == "2019"]
    assert values[0][1:4] == (90.24, pytest.approx(89.64), pytest.approx(90.84))
    hongkou = next(c for c in sheet["A"] if c.value == "Hongkou")
    assert sheet.cell(hongkou.row, 2).number_format == "0.00"


def test_method_and_bands_read_right():
    book = _workbook(sample_report("en"))
    method = dict(book["Method"].iter_rows(min_row=2, values_only=True))
    assert method["Questionnaire and version"] == \
        "Citizen quality satisfaction survey, version 2019.1"
    assert method["Generated"] == "2019-11-05 09:30 (Beijing time, UTC+08:00)"
    assert method["Wave open"] == "2019-09-01 – 2019-10-31 (Beijing time, UTC+08:00)"
    assert "(reverse-scored)" in method["Reverse-scored items"]
    bands = list(book["Bands"].iter_rows(values_only=True))
    assert bands[0] == ("Band", "From (inclusive)", "Below (100 inclusive)", "Score range")
    assert bands[1] == ("Satisfied", 90, 100, "90 ≤ score ≤ 100")
    assert bands[2] == ("Fairly satisfied", 80, 90, "80 ≤ score < 90")


def test_formula_text_stays_text_in_excel():
    sheet = _workbook(sample_report("en"))["Scores by street"]
    cell = next(c for c in sheet["B"] if c.value == INJECTION)
    assert cell.data_type == "s" and cell.quotePrefix


def test_csv_is_a_zip_of_one_tidy_table_per_file_with_a_readme():
    report = sample_report("en")
    files = csv_zip(build_csv(report))
    assert list(files) == ["README.txt", "01_summary.csv", "02_changes.csv", "03_dimensions.csv",
                           "04_items.csv", "05_streets.csv", "06_row_changes.csv",
                           "07_method.csv", "08_bands.csv", "09_margins.csv"]
    assert all(data.startswith(b"\xef\xbb\xbf") for data in files.values())  # Excel: UTF-8
    readme = files["README.txt"].decode("utf-8-sig")
    assert "05_streets.csv: Scores by street" in readme and "Note column" in readme
    tables = csv_tables(build_csv(report))
    dimension = tables["dimensions"][0]
    assert float(dimension["Score"]) == pytest.approx(report.dimensions[0].estimate.value)
    assert not any(h.startswith("Change") for h in dimension)  # tidy: changes are rows
    changes = [r for r in tables["row_changes"] if r["Code"] == report.dimensions[0].code]
    assert [r["Compared with"] for r in changes] == ["2018", "2017"]
    injected = next(r for r in tables["streets"] if r["Street"].endswith('"click")'))
    assert injected["Street"] == "'" + INJECTION
    suppressed = next(r for r in tables["streets"] if r["Responses"] == "25")
    assert suppressed["Score"] == "" and suppressed["Note"] == "fewer than 30 responses: not shown"


def test_english_verdicts_start_with_a_word_so_csv_adds_no_apostrophe():
    verdicts = [r["Verdict"] for r in csv_tables(build_csv(sample_report("en")))["changes"]]
    assert verdicts and all(v.startswith("Change on ") for v in verdicts)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_every_formula_trigger_is_neutralised(text):
    assert is_formula_like(text) and csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["虹口区", "北外滩 = 好", "90.24", ""])
def test_plain_text_is_left_alone(text):
    assert csv_text(text) == text
