"""The CJK font for charts: Noto Sans CJK from the pip package noto-cjk-sans-otc.

Installing the package is all a server needs for Chinese labels; no system fonts are assumed.
The font is registered with matplotlib's font manager once, and charts select it through an
``rc_context`` while they are built, so no global matplotlib state is changed.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import noto_cjk_sans_otc
from matplotlib import font_manager, rc_context

__all__ = ["CJK_FAMILY", "chart_fonts", "cjk_font_path", "register_cjk_font"]

#: The Simplified-Chinese face of the collection; DejaVu Sans (matplotlib's own) backs it up.
CJK_FAMILY = "Noto Sans CJK SC"


def cjk_font_path() -> Path:
    """Path of the NotoSansCJK-Regular.ttc collection shipped inside the pip package."""
    return Path(str(noto_cjk_sans_otc.FONT_PATH))


@functools.cache
def register_cjk_font() -> str:
    """Add the collection to matplotlib's font manager (once per process); return the family name."""
    font_manager.fontManager.addfont(str(cjk_font_path()))
    if CJK_FAMILY not in {entry.name for entry in font_manager.fontManager.ttflist}:
        raise RuntimeError(f"{cjk_font_path()} does not provide the font family {CJK_FAMILY!r}")
    return CJK_FAMILY


@contextlib.contextmanager
def chart_fonts() -> Iterator[None]:
    """Within this block new matplotlib texts use Noto Sans CJK SC (then DejaVu Sans).

    Texts keep the font they were created with, so a figure built inside the block renders
    Chinese correctly when it is saved later, outside it.
    """
    family = register_cjk_font()
    with rc_context({"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": True}):
        yield
