"""The report as CSV: a zip of one tidy table per file, plus a README that describes them.

Each file is UTF-8 with a byte-order mark so that Excel opens the Chinese text correctly, and
has one header row and one observation per row (surveyapp.reports.tables, ``tidy=True``).
Numbers are written plainly (scores to four decimals); an empty cell is a figure not shown,
and says why in the table's note column. Respondent or uploaded text is neutralised against
formula execution.
"""
from __future__ import annotations

import csv
import io
import zipfile

from surveyapp.reports.model import Report
from surveyapp.reports.safety import csv_text
from surveyapp.reports.tables import Cell, Table, report_tables
from surveyapp.reports.wording import label, questionnaire_version, title, zoned

README = "README.txt"
# A fixed time for every member, so the same report gives the same bytes (the cache's digest).
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def build_csv(report: Report) -> bytes:
    """The CSV edition of ``report``: a zip archive's bytes."""
    tables = report_tables(report, tidy=True)
    names = [f"{number:02d}_{table.id}.csv" for number, table in enumerate(tables, start=1)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, README, _readme(report, tables, names).encode("utf-8-sig"))
        for name, table in zip(names, tables):
            _add(archive, name, _table_csv(table))
    return out.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    member = zipfile.ZipInfo(name, ZIP_TIME)
    member.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(member, data)


def _table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in table.headers])
    writer.writerows([_format(cell) for cell in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def _readme(report: Report, tables: tuple[Table, ...], names: list[str]) -> str:
    lang = report.lang
    colon = "：" if lang == "zh" else ": "
    lines = [title(report), questionnaire_version(report),
             f"{label('wave', lang)}{colon}{report.wave}",
             zoned(f"{label('m_generated', lang)}{colon}{report.generated_at:%Y-%m-%d %H:%M}",
                   report),
             "", label("csv_readme", lang), ""]
    for name, table in zip(names, tables):
        lines.append(f"{name}{colon}{table.title}")
        lines.append("    " + " | ".join(table.headers))
    return "\r\n".join(lines) + "\r\n"


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
