"""The report as one CSV file: each table as a titled section, separated by a blank line.

UTF-8 with a byte-order mark so that Excel opens the Chinese text correctly. Numbers are written
plainly (scores to four decimals) and respondent or uploaded text is neutralised against formula
execution.
"""
from __future__ import annotations

import csv
import io

from surveyapp.reports.model import Report
from surveyapp.reports.safety import csv_text
from surveyapp.reports.tables import Cell, report_tables
from surveyapp.reports.wording import title


def build_csv(report: Report) -> bytes:
    """The CSV file of ``report`` as bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_text(title(report))])
    for table in report_tables(report):
        writer.writerow([])
        writer.writerow([csv_text(table.title)])
        writer.writerow([csv_text(h) for h in table.headers])
        writer.writerows([_format(cell) for cell in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def _format(cell: Cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if cell.kind == "score":
        return f"{value:.4f}"
    if cell.kind == "model":  # model-based figures are published to one decimal
        return f"{value:.1f}"
    if cell.kind == "p":
        return f"{value:.4g}"
    return str(value)
