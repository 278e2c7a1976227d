"""The report as a PDF for reading: page one gives the answer, later pages the detail.

Page 1: title, the index in large type with its band and 95% interval, each change against an
earlier wave in plain words, the rank and city mean, the dimension table, and under it the trend
(or, for a first wave, the district comparison: Report.lead_charts) when it fits, so that page one alone tells the
story. Then the other charts, the item table, the streets (or, city-wide, the ranked districts)
and the method.

Text is set in Noto Sans CJK SC (surveyapp.reports.fonts), so Chinese renders on any reader.
All text goes through plain cells, never markdown or HTML, so names from uploads cannot inject
markup.
"""
from __future__ import annotations

import io
import secrets
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image as PILImage

from surveyapp.reports.fonts import FONT, CJKPDF
from surveyapp.reports.latent_section import ROW_HEADERS, LatentSection, page_rows, summary_lines
from surveyapp.reports.latent_section import word as latent_word
from surveyapp.reports.model import Change, Chart, Report, ScoreRow
from surveyapp.reports.wording import (
    band_range,
    date,
    estimate_text,
    interval,
    label,
    questionnaire_version,
    score,
    signed,
    street_mark,
    timestamp,
    title,
    verdict,
    zoned,
)

NAVY = (31, 78, 121)
GREY = (110, 110, 110)
LIGHT = (235, 241, 247)
UP = (0, 120, 60)
DOWN = (190, 30, 30)
HIGHLIGHT = (255, 242, 204)
CHART_MAX_HEIGHT = 120  # mm: two charts fit on a page
LEAD_MIN_WIDTH = 120  # mm: narrower than this, page one's chart is too small to read
LEAD_HEADINGS = {"trend": "trend", "districts": "chart_districts"}  # label keys
HEADINGS = FontFace(emphasis="", color=(255, 255, 255), fill_color=NAVY)


class _ReportPDF(CJKPDF):
    """A4 portrait with a running footer: report title and page x / y."""

    def __init__(self, report: Report) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.set_margins(16, 14, 16)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_title(title(report))
        self.set_lang("zh-CN" if report.lang == "zh" else "en")
        self.set_creator("surveyapp")
        # The page-count placeholder is unguessable, so a district or street named "{nb}"
        # prints as itself and not as the page count.
        self.page_count_alias = f"{{nb:{secrets.token_hex(8)}}}"
        self.alias_nb_pages(self.page_count_alias)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, size=7)
        self.set_text_color(*GREY)
        self.cell(0, 4, title(self.report), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"{self.page_no()} / {self.page_count_alias}", align="R")


def build_pdf(report: Report) -> bytes:
    """The PDF file of ``report``."""
    pdf = _ReportPDF(report)
    pdf.add_page()
    _title_block(pdf, report)
    _headline(pdf, report)
    _changes(pdf, report)
    _heading(pdf, report.dimension_heading)
    _score_table(pdf, report, report.dimensions, label("col_dimension", report.lang))
    _significance_note(pdf, report)
    lead = _lead_chart(pdf, report)
    section = report.latent_index
    own_chart = section.chart_id if section is not None else None
    _charts(pdf, report, [c for c in report.charts if c is not lead and c.id != own_chart])
    if report.kind == "city":
        _section(pdf, label("districts", report.lang))
        _districts_table(pdf, report)
    _section(pdf, label("items", report.lang))
    _score_table(pdf, report, report.items, label("col_item", report.lang), grouped=True)
    if report.kind == "district":
        _section(pdf, label("streets", report.lang))
        _streets_table(pdf, report)
    if report.small_area is not None:
        _section(pdf, label("small_area", report.lang))
        _small_area_table(pdf, report)
    if section is not None:
        _latent(pdf, report, section)
    _section(pdf, label("method", report.lang))
    _method(pdf, report)
    return bytes(pdf.output())


def _text(pdf: _ReportPDF, size: float, text: str, color=(0, 0, 0),
          height: float | None = None) -> None:
    """A left-aligned paragraph; Chinese wraps between any two characters, English at spaces."""
    pdf.set_font(FONT, size=size)
    pdf.set_text_color(*color)
    wrap = "CHAR" if pdf.report.lang == "zh" else "WORD"
    pdf.multi_cell(0, height or size * 0.5, text, align="L", wrapmode=wrap, new_x="LMARGIN",
                   new_y="NEXT")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    _text(pdf, 13, text, NAVY, 8)
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)


def _section(pdf: FPDF, text: str, room: float = 50) -> None:
    """A heading that starts a new page unless ``room`` mm are left for what follows it."""
    if pdf.get_y() + room > pdf.page_break_trigger:
        pdf.add_page()
    else:
        pdf.ln(4)
    _heading(pdf, text)


def _table(pdf: FPDF, widths: Sequence[float], headings: bool = True):
    """A full-width table with the house style; ``widths`` are relative."""
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(0, 0, 0)
    return pdf.table(col_widths=tuple(widths), width=pdf.epw, headings_style=HEADINGS,
                     first_row_as_headings=headings, text_align="LEFT", line_height=5, padding=1,
                     borders_layout="HORIZONTAL_LINES")


def _title_block(pdf: FPDF, report: Report) -> None:
    lang = report.lang
    _text(pdf, 9, f"{label('wave', lang)} {report.wave} · {questionnaire_version(report)}", GREY)
    pdf.ln(1)
    _text(pdf, 26, report.area, NAVY, 13)
    _text(pdf, 14, label("subtitle", lang, questionnaire=report.questionnaire, wave=report.wave),
          height=8)
    pdf.ln(3)


def _headline(pdf: FPDF, report: Report) -> None:
    """The index in large type on a tinted panel, its interval, band, rank and city mean."""
    lang, head = report.lang, report.headline
    top, height = pdf.get_y(), 38
    pdf.set_fill_color(*LIGHT)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="F")
    pdf.set_xy(pdf.l_margin + 4, top + 3)
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*GREY)
    pdf.cell(70, 5, label("index", lang))
    pdf.set_xy(pdf.l_margin + 4, top + 8)
    pdf.set_font(FONT, size=40)
    pdf.set_text_color(*NAVY)
    pdf.cell(70, 18, score(head.estimate.value))
    pdf.set_xy(pdf.l_margin + 4, top + 27)
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(0, 0, 0)
    ci = interval(head.estimate.ci_low, head.estimate.ci_high)
    pdf.cell(80, 6, f"{label('ci95', lang)}: {ci}")
    right = pdf.l_margin + 86
    lines = [(label("band", lang), head.band or "–", 16)]
    if head.rank is not None:
        lines.append((label("col_rank", lang),
                      label("rank", lang, rank=head.rank, of=head.rank_of), 11))
    if head.city_mean is not None:
        lines.append((label("city_mean", lang), estimate_text(head.city_mean), 11))
    lines.append((label("col_n", lang), f"{head.estimate.n:,}", 11))
    y = top + 3
    for caption, value, size in lines:
        pdf.set_xy(right, y)
        pdf.set_font(FONT, size=8)
        pdf.set_text_color(*GREY)
        pdf.cell(24, 5, caption)
        pdf.set_font(FONT, size=size)
        pdf.set_text_color(*NAVY if size > 11 else (0, 0, 0))
        pdf.cell(0, 5 if size <= 11 else 7, value)
        y += 9 if size > 11 else 7.5
    pdf.set_xy(pdf.l_margin, top + height + 2)


def _changes(pdf: FPDF, report: Report) -> None:
    _heading(pdf, label("changes", report.lang))
    if not report.headline.changes:
        _text(pdf, 10, label("no_earlier", report.lang), GREY, 6)
    for change in report.headline.changes:
        _text(pdf, 10, "• " + verdict(change, report.lang), _change_color(change), 6)


def _change_color(change: Change) -> tuple[int, int, int]:
    if not change.significant:
        return (0, 0, 0)
    return UP if change.difference > 0 else DOWN


def _change_text(change: Change | None) -> str:
    if change is None:
        return "–"
    return signed(change.difference) + (" *" if change.significant else "")


def _score_table(pdf: FPDF, report: Report, rows: Sequence[ScoreRow], name_header: str,
                 grouped: bool = False) -> None:
    lang = report.lang
    waves = report.earlier_waves
    headers = [name_header, label("col_score", lang), label("col_ci", lang), label("band", lang),
               *(label("col_change", lang, wave=w) for w in waves)]
    name_width = 62 if grouped else 56
    widths = [name_width, 16, 30, 22, *([18] * len(waves))]
    if grouped:
        headers.insert(0, label("col_dimension", lang))
        widths.insert(0, 28)
    with _table(pdf, widths) as table:
        table.row(headers)
        for row in rows:
            cells = [row.label, score(row.estimate.value),
                     interval(row.estimate.ci_low, row.estimate.ci_high), row.band or "–"]
            if grouped:
                cells.insert(0, row.group or "–")
            line = table.row()
            for text in cells:
                line.cell(text)
            for change in row.changes:
                line.cell(_change_text(change), style=_change_style(change))


def _change_style(change: Change | None) -> FontFace | None:
    if change is None or not change.significant:
        return None
    return FontFace(color=_change_color(change), fill_color=HIGHLIGHT)


def _significance_note(pdf: FPDF, report: Report) -> None:
    if report.earlier_waves:
        note = ("* 变化在5%水平上显著。" if report.lang == "zh"
                else "* change significant at the 5% level.")
        _text(pdf, 8, note, GREY, 5)


def _lead_chart(pdf: FPDF, report: Report) -> Chart | None:
    """Put the best lead chart under the dimension table if page one has room for it at a
    readable size; None if none fits."""
    heading_room = 16  # mm: the heading and the gap above it
    room = pdf.page_break_trigger - pdf.get_y() - heading_room
    for chart in report.lead_charts():
        width, height = _chart_size(pdf, chart, room)
        if width >= LEAD_MIN_WIDTH:
            _heading(pdf, label(LEAD_HEADINGS[chart.id], report.lang))
            _place_chart(pdf, chart, width, height)
            return chart
    return None


def _chart_size(pdf: FPDF, chart: Chart, max_height: float = CHART_MAX_HEIGHT
                ) -> tuple[float, float]:
    """Width and height in mm: as wide as the page allows, no taller than ``max_height``."""
    pixels_wide, pixels_high = PILImage.open(io.BytesIO(chart.png)).size
    width = min(pdf.epw, 170, min(max_height, CHART_MAX_HEIGHT) * pixels_wide / pixels_high)
    return width, width * pixels_high / pixels_wide


def _place_chart(pdf: FPDF, chart: Chart, width: float, height: float) -> None:
    pdf.image(chart.png, x=pdf.l_margin + (pdf.epw - width) / 2, w=width, h=height,
              alt_text=chart.title)  # the chart carries its own title
    pdf.ln(4)


def _charts(pdf: FPDF, report: Report, charts: Sequence[Chart]) -> None:
    if not charts:
        return
    pdf.add_page()
    _heading(pdf, label("charts", report.lang))
    for chart in charts:
        width, height = _chart_size(pdf, chart)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        _place_chart(pdf, chart, width, height)


def _districts_table(pdf: FPDF, report: Report) -> None:
    lang = report.lang
    headers = [label("col_rank", lang), label("col_district", lang), label("col_n", lang),
               label("col_score", lang), label("col_ci", lang),
               *(label("col_change", lang, wave=w) for w in report.earlier_waves)]
    widths = [12, 40, 20, 18, 32, *([22] * len(report.earlier_waves))]
    with _table(pdf, widths) as table:
        table.row(headers)
        for rank, row in enumerate(report.districts, start=1):
            line = table.row()
            for text in (str(rank), row.label, f"{row.estimate.n:,}", score(row.estimate.value),
                         interval(row.estimate.ci_low, row.estimate.ci_high)):
                line.cell(text)
            for change in row.changes:
                line.cell(_change_text(change), style=_change_style(change))
    _significance_note(pdf, report)


def _streets_table(pdf: FPDF, report: Report) -> None:
    lang, limit = report.lang, report.method.suppress_below
    headers = [label("col_street", lang), label("col_n", lang), label("col_score", lang),
               label("col_ci", lang), label("col_note", lang)]
    suppressed = FontFace(color=GREY)
    with _table(pdf, [44, 16, 16, 30, 62]) as table:
        table.row(headers)
        for street in report.streets:
            line = table.row()
            line.cell(street.label)
            line.cell(f"{street.n:,}")
            if street.estimate is None:  # no figure: dashes, and why in the note column
                line.cell("–", style=suppressed)
                line.cell("–", style=suppressed)
                line.cell(street_mark(street.n, limit, lang), style=suppressed)
            else:
                line.cell(score(street.estimate.value))
                line.cell(interval(street.estimate.ci_low, street.estimate.ci_high))
                line.cell("")
    pdf.ln(1)
    _text(pdf, 8, label("suppressed_note", lang, limit=limit), GREY, 5)


def _small_area_table(pdf: FPDF, report: Report) -> None:
    """Direct estimate (or why not) beside the model-based figure, one decimal, and its basis."""
    lang, section = report.lang, report.small_area
    headers = [label("col_street", lang), label("col_n", lang), label("col_direct", lang),
               label("col_model", lang), label("col_rmse", lang), label("col_basis", lang)]
    grey = FontFace(color=GREY)
    with _table(pdf, [30, 17, 37, 35, 14, 49]) as table:
        table.row(headers)
        for row in section.rows:
            line = table.row()
            line.cell(row.label)
            line.cell(f"{row.n:,}")
            if row.direct is None:
                line.cell(row.direct_note, style=grey)
            else:
                line.cell(estimate_text(row.direct))
            if row.model is None:
                line.cell(row.model_note, style=grey, colspan=2)
            else:
                m = row.model
                line.cell(f"{m.value:.1f} [{m.ci_low:.1f} – {m.ci_high:.1f}]")
                line.cell(f"{m.rmse:.1f}")
            line.cell(row.basis, style=grey)
    pdf.ln(1)
    _text(pdf, 8, section.note, GREY, 5)


def _method(pdf: FPDF, report: Report) -> None:
    lang, m = report.lang, report.method
    w = m.weighting
    if w.note:
        _text(pdf, 10, w.note, DOWN, 6)
        pdf.ln(1)
    rows = [
        (label("m_n", lang), f"{m.n:,}"),
        (label("m_design", lang), m.design),
        (label("m_weighting", lang), label("m_raked" if w.weighted else "m_unweighted", lang)),
    ]
    if w.weighted:
        rows.append((label("m_margin_set", lang), w.margin_set or "–"))
        key = "m_converged_yes" if w.converged else "m_converged_no"
        rows.append((label("m_converged", lang),
                     label(key, lang, iterations=w.iterations, misfit=f"{w.misfit:.3g}")))
    rows += [
        (label("m_deff", lang), f"{m.deff:.2f}"),
        (label("m_neff", lang), f"{m.effective_n:,.0f}"),
        (label("m_excluded", lang), f"{m.excluded:,}"),
        (label("m_dates", lang),
         zoned(f"{timestamp(m.first_response)} – {timestamp(m.last_response)}", report)),
        (label("m_wave_dates", lang), zoned(f"{date(m.wave_opens)} – {date(m.wave_closes)}",
                                            report)),
        (label("m_questionnaire", lang), questionnaire_version(report)),
        (label("m_confidence", lang), f"{m.confidence:.0%}"),
    ]
    if report.kind == "district":
        rows.append((label("m_suppress", lang), str(m.suppress_below)))
    if m.reverse_scored:
        rows.append((label("m_reverse", lang), label("m_reverse_text", lang)))
    rows.append((label("m_generated", lang), zoned(timestamp(report.generated_at), report)))
    _key_value_table(pdf, rows)
    if m.bands:
        _section(pdf, label("bands", lang), room=40)
        _key_value_table(pdf, [(b.label, band_range(b, lang)) for b in m.bands])
    counts_key = "m_counts_street" if report.kind == "district" else "m_counts_district"
    _section(pdf, label(counts_key, lang), room=30)
    _key_value_table(pdf, [(c.label, f"{c.n:,}") for c in m.counts])
    if w.margins:
        _section(pdf, label("margins", lang), room=30)
        _margins_table(pdf, report)


def _latent(pdf: FPDF, report: Report, section: LatentSection) -> None:
    """The latent-index section: its figures, the dimensions' importance and performance, and
    the importance-performance chart (surveyapp.reports.latent_section)."""
    lang = report.lang
    _section(pdf, latent_word("heading", lang), room=90)
    if section.unavailable is not None:
        _text(pdf, 9, latent_word("unavailable", lang, reason=section.unavailable), GREY, 5)
        return
    _text(pdf, 8.5, latent_word("intro", lang, replicates=section.replicates), GREY, 4.5)
    pdf.ln(1)
    _key_value_table(pdf, summary_lines(section, lang))
    pdf.ln(2)
    with _table(pdf, [36, 20, 13, 18, 20, 19, 34]) as table:
        table.row([latent_word(k, lang) for k in ROW_HEADERS])
        for row in page_rows(section, lang):
            table.row(list(row))
    pdf.ln(1)
    _text(pdf, 8, latent_word("matrix_note", lang), GREY, 4.5)
    chart = next((c for c in report.charts if c.id == section.chart_id), None)
    if chart is not None:
        width, height = _chart_size(pdf, chart, max_height=100)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        _place_chart(pdf, chart, width, height)


def _key_value_table(pdf: FPDF, rows: Sequence[tuple[str, str]]) -> None:
    with _table(pdf, [55, 120], headings=False) as table:
        for key, value in rows:
            line = table.row()
            line.cell(key, style=FontFace(color=GREY))
            line.cell(value)


def _margins_table(pdf: FPDF, report: Report) -> None:
    lang = report.lang
    keys = ("col_variable", "col_category", "col_target", "col_achieved")
    headers = [label(k, lang) for k in keys]
    with _table(pdf, [40, 60, 35, 35]) as table:
        table.row(headers)
        for margin in report.method.weighting.margins:
            table.row([margin.variable, margin.category, f"{margin.target:,.0f}",
                       f"{margin.achieved:,.0f}"])

