"""The CJK font every PDF of the service is set in.

Noto Sans CJK SC, taken from the ``noto-cjk-sans-otc`` package and embedded as a subset
(fpdf2 reads the CFF outlines of the .ttc directly), so Chinese renders on any reader; its
Latin letters serve the English text.
"""
from __future__ import annotations

import noto_cjk_sans_otc
from fontTools.misc.arrayTools import intRect, unionRect
from fpdf import FPDF
from fpdf.fonts import TTFFont

FONT = "noto"
SIMPLIFIED_CHINESE_FACE = 2  # index of "Noto Sans CJK SC" in NotoSansCJK-Regular.ttc

#: Glyph name -> its outline's bounds (None: no outline) in the face, kept by the process.
_glyph_bounds: dict[str, tuple[float, float, float, float] | None] = {}


class CJKPDF(FPDF):
    """An FPDF with the font registered as ``FONT``, whose output embeds the subset's font box
    from bounds the process keeps.

    fontTools would otherwise recompute the bounding boxes on saving the subset: it runs every
    kept glyph's outline four times per document (the CFF font box on each of fpdf2's two
    compiles, hhea, vhea), about half of the font's cost in a report. Here each glyph's bounds
    are computed once per process and the box set to their union, which is what fontTools'
    ``recalcFontBBox`` gives, so the file is byte for byte the one it made (the PDF embeds
    only the CFF table; hhea and vhea are not embedded).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_font(FONT, "", str(noto_cjk_sans_otc.FONT_PATH),
                      collection_font_number=SIMPLIFIED_CHINESE_FACE)
        self.fonts[FONT].ttfont.recalcBBoxes = False

    def output(self, *args, **kwargs):
        _set_subset_font_box(self.fonts[FONT])
        return super().output(*args, **kwargs)


def _set_subset_font_box(font: TTFFont) -> None:
    """The CFF font box of the glyphs the subset will keep: those used and .notdef."""
    top = font.ttfont["CFF "].cff.topDictIndex[0]
    charstrings = top.CharStrings
    box = None
    for name in {".notdef", *font.subset.get_all_glyph_names()}:
        if name not in _glyph_bounds:
            _glyph_bounds[name] = charstrings[name].calcBounds(charstrings)
        bounds = _glyph_bounds[name]
        if bounds is not None:
            box = bounds if box is None else unionRect(box, bounds)
    top.FontBBox = list(intRect(box)) if box is not None else top.defaults["FontBBox"][:]
