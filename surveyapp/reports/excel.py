"""The report as an Excel workbook: one sheet per table, numbers stored as numbers.

Headers are bold on a tinted row, frozen, with a filter; scores carry a two-decimal number format
but keep full precision; significant changes are highlighted; a figure not shown is an empty
cell, explained in its table's note column. A last sheet holds the charts: the trend and the
district comparison as native Excel charts over their figures, and every chart as a picture.
"""
from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from surveyapp.reports.model import Chart, Report
from surveyapp.reports.safety import excel_text, is_formula_like
from surveyapp.reports.tables import Cell, Table, report_tables
from surveyapp.reports.wording import label, title

NUMBER_FORMATS = {"score": "0.00", "count": "#,##0", "p": "0.000", "model": "0.0"}
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HIGHLIGHT_FILL = PatternFill("solid", fgColor="FFF2CC")
HIGHLIGHT_FONT = Font(bold=True)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CHART_ROWS = 26  # rows one chart image occupies at the default row height
NATIVE_CHARTS = ("trend", "districts")  # drawn as Excel charts too, from Chart.points


def build_workbook(report: Report) -> bytes:
    """The XLSX file of ``report``."""
    book = Workbook()
    book.remove(book.active)
    book.properties.title = title(report)
    for table in report_tables(report):
        _write_table(book.create_sheet(_sheet_name(table.title, book.sheetnames)), table)
    if report.charts:
        _write_charts(book.create_sheet(_sheet_name(label("charts", report.lang), book.sheetnames)),
                      report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(wanted: str, taken: list[str]) -> str:
    """Excel allows 31 characters and no ``[]:*?/\\`` in a sheet name; names must be unique."""
    base = SHEET_NAME_FORBIDDEN.sub(" ", wanted)[:31]
    name, number = base, 2
    while name in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    return name


def _write_table(sheet: Worksheet, table: Table) -> None:
    for column, header in enumerate(table.headers, start=1):
        cell = sheet.cell(row=1, column=column, value=excel_text(header))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row_number, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            _write_cell(sheet, row_number, column, value)
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = sheet.dimensions
    _fit_columns(sheet, table)


def _write_cell(sheet: Worksheet, row: int, column: int, value: Cell) -> None:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value.value, str):
        cell.value = excel_text(value.value)
        if is_formula_like(cell.value):
            cell.data_type = "s"  # openpyxl would otherwise store it as a formula
            cell.quotePrefix = True
    else:
        cell.value = value.value
        if value.kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[value.kind]
    if value.highlight:
        cell.fill, cell.font = HIGHLIGHT_FILL, HIGHLIGHT_FONT


def _display_width(value: object) -> int:
    """Rough column width: CJK characters are twice as wide as Latin ones."""
    text = f"{value:.2f}" if isinstance(value, float) else str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _fit_columns(sheet: Worksheet, table: Table) -> None:
    for column, header in enumerate(table.headers, start=1):
        widest = max((_display_width(row[column - 1].value) for row in table.rows), default=0)
        width = min(max(widest, min(_display_width(header), 24), 6) + 2, 80)
        sheet.column_dimensions[get_column_letter(column)].width = width


def _write_charts(sheet: Worksheet, report: Report) -> None:
    """Each chart: its title; for the trend and the district comparison, the plotted figures
    with a native Excel chart drawn from them (editable, restylable); then the PNG picture."""
    row = 1
    for chart in report.charts:
        sheet.cell(row=row, column=1, value=excel_text(chart.title)).font = Font(bold=True, size=12)
        row += 1
        if chart.id in NATIVE_CHARTS and chart.points:
            row = _native_chart(sheet, row, chart, report)
        image = Image(io.BytesIO(chart.png))
        scale = 640 / image.width
        image.width, image.height = 640, int(image.height * scale)
        sheet.add_image(image, f"A{row}")
        row += max(CHART_ROWS, image.height // 20 + 3)
    for column, width in zip("ABCD", (24, 12, 14, 14)):
        sheet.column_dimensions[column].width = width


def _native_chart(sheet: Worksheet, top: int, chart: Chart, report: Report) -> int:
    """The chart's points as a table at ``top`` and an openpyxl chart beside it; the next free
    row below both."""
    lang = report.lang
    name_key = "wave" if chart.id == "trend" else "col_district"
    headers = (label(name_key, lang), label("col_score", lang), label("col_ci_low", lang),
               label("col_ci_high", lang))
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=top, column=column, value=header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for offset, point in enumerate(chart.points, start=1):
        sheet.cell(row=top + offset, column=1, value=excel_text(point.label))
        for column, value in enumerate((point.value, point.ci_low, point.ci_high), start=2):
            sheet.cell(row=top + offset, column=column, value=value).number_format = "0.00"
    last = top + len(chart.points)
    native = LineChart() if chart.id == "trend" else BarChart()
    if chart.id == "trend":
        for column in (2, 3, 4):
            native.add_data(Reference(sheet, min_col=column, min_row=top, max_row=last),
                            titles_from_data=True)
        native.series[1].graphicalProperties.line.dashStyle = "dash"
        native.series[2].graphicalProperties.line.dashStyle = "dash"
    else:
        native.type = "bar"  # horizontal: long district names stay readable
        native.add_data(Reference(sheet, min_col=2, min_row=top, max_row=last),
                        titles_from_data=True)
        native.y_axis.scaling.orientation = "minMax"
        native.x_axis.scaling.orientation = "maxMin"  # best first, as in the table
        native.legend = None
    native.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=last))
    native.title = excel_text(chart.title)
    native.y_axis.title = label("col_score", lang)
    native.y_axis.number_format = "0"
    native.x_axis.delete = native.y_axis.delete = False
    native.width, native.height = 17, max(7.5, 0.45 * len(chart.points) + 2)
    sheet.add_chart(native, f"F{top}")
    chart_rows = int(native.height / 0.53) + 2  # default row height: about 0.53 cm
    return top + max(len(chart.points) + 2, chart_rows)
