"""Report charts as matplotlib Figure objects (never pyplot: safe in a web server's threads).

Every chart takes the tables the estimators return (columns ``estimate``, ``ci_low``,
``ci_high``) and a language, ``"zh"`` or ``"en"``, for its title and axis labels. Chinese renders
with the Noto Sans CJK font from the pip package (see `analysis.fonts`). Save with
``fig.savefig(buffer, format="png" | "pdf" | "svg")``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.fonts import chart_fonts

__all__ = ["district_comparison_chart", "importance_performance_chart", "trend_chart"]

Language = Literal["zh", "en"]

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "trend_title": "满意度得分变化趋势",
        "wave": "测评年度",
        "score": "得分（0-100）",
        "interval": "{level}置信区间",
        "district_title": "各区满意度得分比较",
        "city_mean": "全市平均 {value:.2f}",
        "ipa_title": "重要性-表现分析",
        "importance": "重要性（对总体满意度的影响）",
        "performance": "表现（得分）",
        "keep": "继续保持",
        "improve": "优先改进",
        "secondary": "次要改进",
        "surplus": "相对过剩",
    },
    "en": {
        "trend_title": "Satisfaction score over waves",
        "wave": "Wave",
        "score": "Score (0-100)",
        "interval": "{level} confidence interval",
        "district_title": "Satisfaction score by district",
        "city_mean": "City mean {value:.2f}",
        "ipa_title": "Importance-performance analysis",
        "importance": "Importance (effect on overall satisfaction)",
        "performance": "Performance (score)",
        "keep": "Keep up the good work",
        "improve": "Concentrate here",
        "secondary": "Low priority",
        "surplus": "Possible overkill",
    },
}

MAIN, HIGHLIGHT, MUTED = "#1f5fa8", "#d1495b", "#8a8a8a"


def _labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    return LABELS[lang]


def _interval_table(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """The estimate/interval columns as floats; an error naming what is missing."""
    needed = ["estimate", "ci_low", "ci_high"]
    absent = [c for c in needed if c not in table.columns]
    if absent:
        raise ValueError(f"{what}: the table lacks the columns {absent}")
    if table.empty:
        raise ValueError(f"{what}: the table has no rows")
    return table[needed].astype(float)


def trend_chart(
    trend: pd.DataFrame,
    lang: Language = "zh",
    title: str | None = None,
    level: float = 0.95,
) -> Figure:
    """Line of the estimate over waves with its confidence band and each value written on.

    ``trend`` has one row per wave in time order; its index holds the wave labels ("2018", ...).
    """
    text = _labels(lang)
    data = _interval_table(trend, "trend chart")
    x = np.arange(len(data))
    with chart_fonts():
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot()
        ax.fill_between(x, data["ci_low"], data["ci_high"], color=MAIN, alpha=0.18, linewidth=0,
                        label=text["interval"].format(level=f"{level:.0%}"))
        ax.plot(x, data["estimate"], color=MAIN, marker="o")
        for xi, value in zip(x, data["estimate"]):
            ax.annotate(f"{value:.2f}", (xi, value), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=9)
        ax.set_xticks(x, [str(label) for label in data.index])
        ax.set_xlim(-0.5, len(data) - 0.5)
        ax.set_title(title or text["trend_title"])
        ax.set_xlabel(text["wave"])
        ax.set_ylabel(text["score"])
        ax.legend(loc="lower right", frameon=False)
        ax.grid(axis="y", alpha=0.3)
    return fig


def district_comparison_chart(
    districts: pd.DataFrame,
    highlight: str | None = None,
    city_mean: float | None = None,
    lang: Language = "zh",
    title: str | None = None,
) -> Figure:
    """Districts' estimates as horizontal points with interval bars, best at the top.

    ``districts`` is indexed by the district's display name; ``highlight`` (a name in that index)
    is drawn in a contrasting colour, and ``city_mean`` as a dashed vertical line.
    """
    text = _labels(lang)
    data = _interval_table(districts, "district comparison chart").sort_values("estimate")
    if highlight is not None and highlight not in data.index:
        raise ValueError(f"highlight: {highlight!r} is not one of the districts {list(data.index)}")
    y = np.arange(len(data))
    colours = [HIGHLIGHT if name == highlight else MAIN for name in data.index]
    with chart_fonts():
        fig = Figure(figsize=(7, 1.2 + 0.35 * len(data)), layout="constrained")
        ax = fig.add_subplot()
        ax.hlines(y, data["ci_low"], data["ci_high"], colors=colours, linewidth=2)
        ax.scatter(data["estimate"], y, color=colours, zorder=3)
        if city_mean is not None:
            ax.axvline(city_mean, color=MUTED, linestyle="--", linewidth=1,
                       label=text["city_mean"].format(value=city_mean))
            ax.legend(loc="lower right", frameon=False)
        ax.set_yticks(y, [str(name) for name in data.index])
        for tick, colour in zip(ax.get_yticklabels(), colours):
            tick.set_color(colour)
        ax.set_title(title or text["district_title"])
        ax.set_xlabel(text["score"])
        ax.grid(axis="x", alpha=0.3)
    return fig


def importance_performance_chart(
    drivers: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    centre: Literal["median", "mean"] = "median",
    lang: Language = "zh",
    title: str | None = None,
) -> Figure:
    """Importance-performance quadrant: each dimension placed by its importance and score.

    ``drivers`` is `analysis.drivers.KeyDrivers.table` (or any frame with ``coefficient`` and
    ``performance`` columns, one row per dimension). ``names`` maps its index to display names.
    The quadrant lines sit at the ``centre`` ("median" or "mean") of each axis; high importance
    with low performance is where to concentrate.
    """
    text = _labels(lang)
    absent = [c for c in ("coefficient", "performance") if c not in drivers.columns]
    if absent:
        raise ValueError(f"importance-performance chart: the table lacks the columns {absent}")
    if centre not in ("median", "mean"):
        raise ValueError(f"centre must be 'median' or 'mean', got {centre!r}")
    importance = drivers["coefficient"].astype(float)
    performance = drivers["performance"].astype(float)
    x0, y0 = getattr(importance, centre)(), getattr(performance, centre)()
    names = names or {}
    with chart_fonts():
        fig = Figure(figsize=(6.5, 5), layout="constrained")
        ax = fig.add_subplot()
        ax.axvline(x0, color=MUTED, linestyle="--", linewidth=1)
        ax.axhline(y0, color=MUTED, linestyle="--", linewidth=1)
        ax.scatter(importance, performance, color=MAIN, zorder=3)
        for key, xi, yi in zip(drivers.index, importance, performance):
            ax.annotate(names.get(key, str(key)), (xi, yi), textcoords="offset points",
                        xytext=(6, 4), fontsize=9)
        _pad_limits(ax, importance, performance, x0, y0)
        corners = [("keep", 0.98, 0.98, "right", "top"), ("improve", 0.98, 0.02, "right", "bottom"),
                   ("secondary", 0.02, 0.02, "left", "bottom"), ("surplus", 0.02, 0.98, "left", "top")]
        for key, cx, cy, ha, va in corners:
            ax.text(cx, cy, text[key], transform=ax.transAxes, ha=ha, va=va, color=MUTED, fontsize=9)
        ax.set_title(title or text["ipa_title"])
        ax.set_xlabel(text["importance"])
        ax.set_ylabel(text["performance"])
    return fig


def _pad_limits(ax: Axes, xs: pd.Series, ys: pd.Series, x0: float, y0: float) -> None:
    """Limits symmetric about the centre lines, so each quadrant gets the same area."""
    def half_width(values: pd.Series, centre: float) -> float:
        spread = float(np.max(np.abs(values - centre)))
        return 1.25 * spread if spread > 0 else max(abs(centre) * 0.1, 1.0)
    dx, dy = half_width(xs, x0), half_width(ys, y0)
    ax.set_xlim(x0 - dx, x0 + dx)
    ax.set_ylim(y0 - dy, y0 + dy)
