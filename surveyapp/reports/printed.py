"""What the printed letters and posters share: the A4 page, text fitted to a box, QR codes.

Text comes from uploads (questionnaire titles, district and street names), so it is set in
plain cells only (no markdown, no HTML) and fpdf2's page-count alias is turned off: a street
named "{nb}" prints as "{nb}". Every text has a box of its own and shrinks (then is cut short)
to fit it, so a long name cannot push one letter into the next.
"""
from __future__ import annotations

from datetime import date

import segno
from fpdf import FPDF

from surveyapp.reports.fonts import FONT, CJKPDF

NAVY = (31, 78, 121)
GREY = (90, 90, 90)
BLACK = (0, 0, 0)
LINE = 1.3  # line height as a multiple of the font size
PT = 25.4 / 72  # mm per point


class PrintPDF(CJKPDF):
    """A4 portrait in mm, the CJK font, no automatic page breaks and no page-count alias."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_auto_page_break(auto=False)
        self.alias_nb_pages("")  # names are printed as they are, "{nb}" included
        self.set_margins(0, 0, 0)
        self.set_title(title)
        self.set_lang("zh-CN")
        self.set_creator("surveyapp")
        self.fits: dict[tuple, tuple[float, list[str]]] = {}  # fitted(): the lines of a text


def fitted(pdf: PrintPDF, text: str, x: float, y: float, w: float, h: float,
           sizes: tuple[float, ...], color: tuple[int, int, int] = BLACK,
           align: str = "L", wrap: str = "CHAR") -> float:
    """Set ``text`` in the box (x, y, w, h) at the largest of ``sizes`` (points) that fits;
    at the smallest, the lines that fit. Returns the y under the text. ``wrap``: "CHAR"
    breaks Chinese between any two characters, "WORD" English at spaces."""
    key = (text, w, h, sizes, wrap)
    if key not in pdf.fits:  # every letter repeats most texts: break them into lines once
        pdf.fits[key] = _fit(pdf, text, w, h, sizes, wrap)
    size, lines = pdf.fits[key]
    pdf.set_font(FONT, size=size)
    pdf.set_text_color(*color)
    height = size * PT * LINE
    for number, line in enumerate(lines):
        pdf.set_xy(x, y + number * height)
        pdf.cell(w, height, line, align=align)
    return y + len(lines) * height


def _fit(pdf: FPDF, text: str, w: float, h: float, sizes: tuple[float, ...],
         wrap: str) -> tuple[float, list[str]]:
    for size in sizes:
        pdf.set_font(FONT, size=size)
        height = size * PT * LINE
        if pdf.get_string_width(text) <= w - 2 * pdf.c_margin and height <= h:
            return size, [text]
        lines = pdf.multi_cell(w, height, text, wrapmode=wrap, dry_run=True, output="LINES")
        if len(lines) * height <= h:
            return size, lines
    return size, lines[:max(1, int(h // height))]


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    """``data`` as a QR code (error correction M) of ``size`` mm, drawn as vector rectangles
    (one per run of dark modules), so it prints sharp at any resolution. The caller leaves
    the quiet zone (4 modules) white around it."""
    matrix = segno.make(data, error="m", boost_error=False).matrix
    module = size / len(matrix)
    pdf.set_fill_color(*BLACK)
    for row, cells in enumerate(matrix):
        start = None
        for column, dark in enumerate((*cells, 0)):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                pdf.rect(x + start * module, y + row * module, (column - start) * module,
                         module, style="F")
                start = None


def period(first_day: date, last_day: date, zone: str) -> str:
    """'2025-09-01 – 2025-11-30 (北京时间 Beijing time, UTC+08:00)'."""
    return f"{first_day.isoformat()} – {last_day.isoformat()} ({zone})"
