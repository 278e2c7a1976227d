"""The composite index chart: districts ranked, each bar split into indicator contributions.

A separate module from `analysis.plots` (the survey estimate charts) because its input is a
`CompositeIndex`, not an estimate table; it uses the same fonts and Figure-only rule.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from analysis.composite_index import CompositeIndex
from analysis.fonts import chart_fonts
from analysis.plots import Language

TEXTS = {
    "zh": {"title": "质量发展指数：各指标贡献", "axis": "指数（0-100）",
           "axis_z": "指数（加权标准分）", "rank": "第{rank}名"},
    "en": {"title": "Quality development index: contribution of each indicator",
           "axis": "Index (0-100)", "axis_z": "Index (weighted standard score)",
           "rank": "#{rank}"},
}


def contribution_chart(result: CompositeIndex, districts: Mapping[str, str] | None = None,
                       indicators: Mapping[str, str] | None = None, lang: Language = "zh",
                       title: str | None = None) -> Figure:
    """Horizontal stacked bars, best district at the top, one segment per indicator.

    ``districts`` and ``indicators`` map codes and keys to display names. Under z-scores a
    contribution can be negative: those segments stack leftwards from 0.
    """
    if lang not in TEXTS:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    text = TEXTS[lang]
    districts, indicators = districts or {}, indicators or {}
    data = result.contributions.iloc[::-1]  # matplotlib draws the first row at the bottom
    y = np.arange(len(data))
    colours = colormaps["tab10"].colors
    with chart_fonts():
        fig = Figure(figsize=(8, 1.6 + 0.38 * len(data)), layout="constrained")
        ax = fig.add_subplot()
        right, left = np.zeros(len(data)), np.zeros(len(data))
        for number, key in enumerate(data.columns):
            values = data[key].to_numpy()
            start = np.where(values >= 0, right, left)
            ax.barh(y, values, left=start, color=colours[number % len(colours)], height=0.7,
                    label=indicators.get(key, key))
            right += np.clip(values, 0, None)
            left += np.clip(values, None, 0)
        for yi, district in zip(y, data.index):
            row = result.table.loc[district]
            ax.annotate(f"{row['index']:.2f}  " + text["rank"].format(rank=int(row["rank"])),
                        (max(right[yi], 0), yi), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.set_yticks(y, [districts.get(code, code) for code in data.index])
        ax.axvline(0, color="#8a8a8a", linewidth=0.8)
        ax.set_xlim(min(left.min(), 0) * 1.1, right.max() * 1.18)
        ax.set_xlabel(text["axis_z" if result.normalisation == "zscore" else "axis"])
        ax.set_title(title or text["title"])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 if len(data) < 8 else -0.06),
                  ncols=3, frameon=False, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    return fig
