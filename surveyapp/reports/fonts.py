"""The CJK font every PDF of the service is set in.

Noto Sans CJK SC, taken from the ``noto-cjk-sans-otc`` package and embedded as a subset
(fpdf2 reads the CFF outlines of the .ttc directly), so Chinese renders on any reader; its
Latin letters serve the English text.
"""
from __future__ import annotations

import noto_cjk_sans_otc
from fpdf import FPDF

FONT = "noto"
SIMPLIFIED_CHINESE_FACE = 2  # index of "Noto Sans CJK SC" in NotoSansCJK-Regular.ttc


def add_cjk_font(pdf: FPDF) -> None:
    """Register the font as ``FONT`` on ``pdf``."""
    pdf.add_font(FONT, "", str(noto_cjk_sans_otc.FONT_PATH),
                 collection_font_number=SIMPLIFIED_CHINESE_FACE)
