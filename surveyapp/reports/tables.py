"""A report as plain tables of typed cells: the shared source of the Excel sheets and CSV sections.

Each figure gets its own column (score, SE, interval bounds, change, p) so that spreadsheets hold
numbers, not formatted strings. The PDF lays the same report out for reading instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surveyapp.reports.latent_section import latent_tables
from surveyapp.reports.model import Change, Estimate, Report, ScoreRow, StreetRow
from surveyapp.reports.small_area import SmallAreaRow
from surveyapp.reports.wording import (
    band_range,
    date,
    label,
    questionnaire_version,
    street_mark,
    timestamp,
    verdict,
    zoned,
)

CellKind = Literal["text", "count", "score", "p", "model"]  # model: one decimal


@dataclass(frozen=True)
class Cell:
    """A value and how to show it; ``highlight`` marks a significant change or this district."""

    value: str | int | float | None
    kind: CellKind = "text"
    highlight: bool = False


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def report_tables(report: Report, tidy: bool = False) -> tuple[Table, ...]:
    """The tables of ``report`` in reading order.

    ``tidy`` (the CSV edition) gives every table one observation per row: the score tables
    lose their change columns (one set per earlier wave), which go to one long table instead.
    """
    tables = [_summary(report), _changes(report)]
    heading = report.dimension_heading
    changes = not tidy
    tables.append(_score_table("dimensions", heading, report, report.dimensions, "col_dimension",
                               changes))
    items = label("items", report.lang)
    tables.append(_score_table("items", items, report, report.items, "col_item", changes))
    if report.kind == "district":
        tables.append(_streets(report))
    else:
        tables.append(_districts(report, changes))
    if report.small_area is not None:
        tables.append(_small_area(report))
    if tidy and report.earlier_waves:
        tables.append(_row_changes(report))
    tables.extend(latent_tables(report))
    tables.append(_method(report))
    if report.method.bands:
        tables.append(_bands(report))
    if report.method.weighting.margins:
        tables.append(_margins(report))
    return tuple(tables)


def _text(value: str | None) -> Cell:
    return Cell(value, "text")


def _score(value: float | None, highlight: bool = False) -> Cell:
    return Cell(value, "score", highlight)


def _estimate_cells(estimate: Estimate) -> tuple[Cell, ...]:
    return (Cell(estimate.n, "count"), _score(estimate.value), _score(estimate.se),
            _score(estimate.ci_low), _score(estimate.ci_high))


def _estimate_headers(lang) -> tuple[str, ...]:
    keys = ("col_n", "col_score", "col_se", "col_ci_low", "col_ci_high")
    return tuple(label(k, lang) for k in keys)


def _change_headers(report: Report) -> tuple[str, ...]:
    keys = ("col_change", "col_change_ci_low", "col_change_ci_high", "col_p", "col_significant")
    return tuple(label(k, report.lang, wave=w) for w in report.earlier_waves for k in keys)


def _change_cells(change: Change | None, lang) -> tuple[Cell, ...]:
    if change is None:
        return (Cell(None, "score"), Cell(None, "score"), Cell(None, "score"), Cell(None, "p"),
                _text(None))
    mark = change.significant
    return (_score(change.difference, mark), _score(change.ci_low), _score(change.ci_high),
            Cell(change.p_value, "p"), Cell(label("yes" if mark else "no", lang), "text", mark))


def _summary(report: Report) -> Table:
    lang, head = report.lang, report.headline
    rows: list[tuple[Cell, ...]] = [
        (_text(label("wave", lang)), _text(report.wave)),
        (_text(label("index", lang)), _score(head.estimate.value)),
        (_text(label("col_se", lang)), _score(head.estimate.se)),
        (_text(label("col_ci_low", lang)), _score(head.estimate.ci_low)),
        (_text(label("col_ci_high", lang)), _score(head.estimate.ci_high)),
        (_text(label("band", lang)), _text(head.band)),
        (_text(label("col_n", lang)), Cell(head.estimate.n, "count")),
    ]
    if head.rank is not None:
        rows.append((_text(label("col_rank", lang)), Cell(head.rank, "count")))
        rows.append((_text(label("ranked_of", lang)), Cell(head.rank_of, "count")))
    if head.city_mean is not None:
        rows.append((_text(label("city_mean", lang)), _score(head.city_mean.value)))
        rows.append((_text(label("city_mean", lang) + " – " + label("col_ci_low", lang)),
                     _score(head.city_mean.ci_low)))
        rows.append((_text(label("city_mean", lang) + " – " + label("col_ci_high", lang)),
                     _score(head.city_mean.ci_high)))
    headers = (label("col_item_label", lang), label("col_value", lang))
    return Table("summary", label("summary", lang), headers, tuple(rows))


def _changes(report: Report) -> Table:
    lang = report.lang
    headers = tuple(label(k, lang) for k in (
        "col_compared_with", "col_diff", "col_diff_ci_low", "col_diff_ci_high", "col_p_value",
        "col_is_significant", "col_verdict"))
    rows = tuple(
        (_text(c.earlier_wave), *_change_cells(c, lang), _text(verdict(c, lang)))
        for c in report.headline.changes
    )
    return Table("changes", label("changes", lang), headers, rows)


def _score_table(table_id: str, title: str, report: Report, rows: tuple[ScoreRow, ...],
                 name_key: str, changes: bool = True) -> Table:
    lang = report.lang
    with_group = any(r.group for r in rows)
    headers = (label("col_code", lang),
               *((label("col_dimension", lang),) if with_group else ()),
               label(name_key, lang), *_estimate_headers(lang), label("band", lang),
               *(_change_headers(report) if changes else ()))
    body = tuple(
        (_text(r.code), *((_text(r.group),) if with_group else ()), _text(r.label),
         *_estimate_cells(r.estimate), _text(r.band),
         *(cell for c in r.changes if changes for cell in _change_cells(c, lang)))
        for r in rows
    )
    return Table(table_id, title, headers, body)


def _row_changes(report: Report) -> Table:
    """Every row's change against every earlier wave, one comparison per row (tidy)."""
    lang = report.lang
    parts = [(report.dimension_heading, report.dimensions), (label("items", lang), report.items)]
    if report.kind == "city":  # a district report publishes no other district's changes
        parts.append((label("districts", lang), report.districts))
    headers = (label("col_table", lang), label("col_code", lang), label("col_name", lang),
               *(label(k, lang) for k in ("col_compared_with", "col_diff", "col_diff_ci_low",
                                          "col_diff_ci_high", "col_p_value",
                                          "col_is_significant")))
    rows = tuple(
        (_text(part), _text(r.code), _text(r.label), _text(c.earlier_wave),
         *_change_cells(c, lang))
        for part, score_rows in parts for r in score_rows for c in r.changes if c is not None)
    return Table("row_changes", label("row_changes", lang), headers, rows)


def _streets(report: Report) -> Table:
    lang, limit = report.lang, report.method.suppress_below
    headers = (label("col_code", lang), label("col_street", lang), *_estimate_headers(lang),
               label("col_note", lang))
    return Table("streets", label("streets", lang), headers,
                 tuple(_street_cells(s, lang, limit) for s in report.streets))


def _street_cells(street: StreetRow, lang, limit: int) -> tuple[Cell, ...]:
    """A withheld street leaves its score columns empty and says why in the note column, so
    the score columns hold numbers only."""
    if street.estimate is None:
        empty = _score(None)
        return (_text(street.code), _text(street.label), Cell(street.n, "count"),
                empty, empty, empty, empty, _text(street_mark(street.n, limit, lang)))
    return (_text(street.code), _text(street.label), *_estimate_cells(street.estimate),
            _text(None))


def _small_area(report: Report) -> Table:
    section, lang = report.small_area, report.lang
    keys = ("col_code", "col_street", "col_n", "col_direct", "col_se", "col_ci_low",
            "col_ci_high", "col_basis", "col_model", "col_rmse", "col_model_ci_low",
            "col_model_ci_high", "col_note")
    return Table("small_area", label("small_area", lang), tuple(label(k, lang) for k in keys),
                 tuple(_small_area_cells(row) for row in section.rows))


def _small_area_cells(row: SmallAreaRow) -> tuple[Cell, ...]:
    """Figures in their own columns (empty where withheld), the reasons in the note column."""
    d, m = row.direct, row.model
    direct = ((Cell(d.value, "score"), Cell(d.se, "score"), Cell(d.ci_low, "score"),
               Cell(d.ci_high, "score")) if d else (Cell(None),) * 4)
    model = ((Cell(m.value, "model"), Cell(m.rmse, "model"), Cell(m.ci_low, "model"),
              Cell(m.ci_high, "model")) if m else (Cell(None),) * 4)
    note = "; ".join(n for n in (row.direct_note if not d else None,
                                 row.model_note if not m else None) if n)
    return (Cell(row.code), Cell(row.label), Cell(row.n, "count"), *direct, Cell(row.basis),
            *model, Cell(note or None))


def _districts(report: Report, changes: bool = True) -> Table:
    lang = report.lang
    table = _score_table("districts", label("districts", lang), report, report.districts,
                         "col_district", changes)
    ranked = tuple((Cell(rank, "count"), *row) for rank, row in enumerate(table.rows, start=1))
    return Table(table.id, table.title, (label("col_rank", lang), *table.headers), ranked)


def _method(report: Report) -> Table:
    lang, m = report.lang, report.method
    w = m.weighting
    rows: list[tuple[Cell, ...]] = [
        (_text(label("m_n", lang)), Cell(m.n, "count")),
        (_text(label("m_design", lang)), _text(m.design)),
        (_text(label("m_weighting", lang)),
         _text(label("m_raked" if w.weighted else "m_unweighted", lang))),
    ]
    if w.note:
        rows.append((_text(""), _text(w.note)))
    if w.weighted:
        rows.append((_text(label("m_margin_set", lang)), _text(w.margin_set)))
        key = "m_converged_yes" if w.converged else "m_converged_no"
        rows.append((_text(label("m_converged", lang)), _text(label(
            key, lang, iterations=w.iterations, misfit=f"{w.misfit:.3g}"))))
    rows += [
        (_text(label("m_deff", lang)), _score(m.deff)),
        (_text(label("m_neff", lang)), _score(m.effective_n)),
        (_text(label("m_excluded", lang)), Cell(m.excluded, "count")),
        (_text(label("m_dates", lang)), _text(zoned(
            f"{timestamp(m.first_response)} – {timestamp(m.last_response)}", report))),
        (_text(label("m_wave_dates", lang)),
         _text(zoned(f"{date(m.wave_opens)} – {date(m.wave_closes)}", report))),
        (_text(label("m_questionnaire", lang)), _text(questionnaire_version(report))),
        (_text(label("m_confidence", lang)), _text(f"{m.confidence:.0%}")),
    ]
    if report.kind == "district":
        rows.append((_text(label("m_suppress", lang)), Cell(m.suppress_below, "count")))
    if m.reverse_scored:
        rows.append((_text(label("m_reverse", lang)), _text(label("m_reverse_text", lang))))
    rows.append((_text(label("m_generated", lang)),
                 _text(zoned(timestamp(report.generated_at), report))))
    headers = (label("col_item_label", lang), label("col_value", lang))
    return Table("method", label("method", lang), headers, tuple(rows))


def _bands(report: Report) -> Table:
    """The questionnaire's band table, best band first, as the reports apply it."""
    lang = report.lang
    headers = tuple(label(k, lang) for k in ("band", "col_lower", "col_upper", "col_band_range"))
    rows = tuple((_text(b.label), _score(b.lower), _score(b.upper), _text(band_range(b, lang)))
                 for b in report.method.bands)
    return Table("bands", label("bands", lang), headers, rows)


def _margins(report: Report) -> Table:
    lang = report.lang
    keys = ("col_variable", "col_category", "col_target", "col_achieved")
    headers = tuple(label(k, lang) for k in keys)
    rows = tuple(
        (_text(g.variable), _text(g.category), _score(g.target), _score(g.achieved))
        for g in report.method.weighting.margins
    )
    return Table("margins", label("margins", lang), headers, rows)
