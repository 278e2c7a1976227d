"""The report as the bureau's web page shows it: the words, tones and groupings the template places.

The page reads like the PDF's first page (a headline, then tables for reading), not like the
spreadsheets' one-figure-per-column tables, so it has its own small set of display helpers here;
templates only place what these return and do no arithmetic.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Literal

from surveyapp.reports.latent_section import page_view
from surveyapp.reports.model import Change, Chart, Language, Report, ScoreRow
from surveyapp.reports.tables import Table, report_tables
from surveyapp.reports.wording import LABELS, label, p_value, signed

Tone = Literal["up", "down", "flat", "none"]


@dataclass(frozen=True)
class ChangeView:
    """A change as a table cell or a headline line: its text, its tone and a tooltip."""

    text: str
    tone: Tone
    detail: str


@dataclass(frozen=True)
class RowGroup:
    """Consecutive rows of the item table that belong to one dimension."""

    name: str | None
    rows: tuple[ScoreRow, ...]


def bilingual(key: str) -> str:
    """A heading in Chinese then English ("综合指数 Satisfaction index"), as staff pages write."""
    zh, en = LABELS[key]
    return f"{zh} {en}"


def dimension_heading(report: Report) -> str:
    """The dimension table's heading in both languages ("sectors" for the public-service monitor)."""
    sectors = report.dimension_heading == label("sectors", report.lang)
    return bilingual("sectors" if sectors else "dimensions")


def change_view(change: Change | None, lang: Language) -> ChangeView:
    """A significant rise is green, a significant fall red, anything else neutral."""
    if change is None:
        return ChangeView("–", "none", "")
    detail = f"{signed(change.ci_low)} – {signed(change.ci_high)}, {p_value(change.p_value)}"
    if not change.significant:
        return ChangeView(signed(change.difference), "flat", detail)
    tone: Tone = "up" if change.difference > 0 else "down"
    return ChangeView(signed(change.difference) + " *", tone, detail)


def change_tag(change: Change, lang: Language) -> str:
    """A two-word verdict to put before the full sentence: significant rise / fall / no change."""
    tone = change_view(change, lang).tone
    return label({"up": "sig_up", "down": "sig_down"}.get(tone, "not_sig"), lang)


def item_groups(rows: Sequence[ScoreRow]) -> tuple[RowGroup, ...]:
    """Items in their questionnaire order, split where the dimension changes."""
    return tuple(RowGroup(name, tuple(group)) for name, group in groupby(rows, lambda r: r.group))


def score_columns(report: Report) -> int:
    """How many columns a scored row fills: name, n, score, interval, band and each change."""
    return 5 + len(report.earlier_waves)


def has_significant_change(report: Report) -> bool:
    """Whether any table marks a change with *, so the page explains the mark only when used."""
    rows = (*report.dimensions, *report.items, *report.districts)
    return any(c is not None and c.significant for r in rows for c in r.changes)


def method_tables(report: Report) -> tuple[Table, ...]:
    """The method, band and weighting tables, shared with the spreadsheets, for the page's
    last part."""
    return tuple(t for t in report_tables(report) if t.id in ("method", "bands", "margins"))


def small_area_table(report: Report) -> Table | None:
    """The small-area table, shared with the spreadsheets (None when the report has none)."""
    return next((t for t in report_tables(report) if t.id == "small_area"), None)


def lead_chart(report: Report) -> tuple[Chart | None, tuple[Chart, ...]]:
    """The chart shown beside the dimension table, as on the PDF's page one, and the others."""
    lead = next(iter(report.lead_charts()), None)
    own = report.latent_index.chart_id if report.latent_index is not None else None
    return lead, tuple(c for c in report.charts if c is not lead and c.id != own)


def side_by_side(report: Report) -> bool:
    """Whether the dimension table fits beside the lead chart at 1280 px in both languages:
    with one change column it does; with more it takes the full width, the chart below."""
    return len(report.earlier_waves) <= 1


def page_parts(report: Report) -> dict[str, object]:
    """What the report template needs beyond the report itself, computed once here."""
    lead, more = lead_chart(report)
    lead_heading = bilingual("trend" if lead is None or lead.id == "trend" else "chart_districts")
    return {"lead_chart": lead, "lead_heading": lead_heading, "more_charts": more, "item_groups": item_groups(report.items),
            "marked": has_significant_change(report), "score_columns": score_columns(report),
            "dimension_heading": dimension_heading(report), "method_tables": method_tables(report),
            "side_by_side": side_by_side(report),
            "small_area_table": small_area_table(report),
            "latent": page_view(report)}
