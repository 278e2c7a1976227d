"""The report's latent-index section: what it says (``LatentSection``) and its table and words.

Filled by surveyapp.services.latent_report; laid out by the PDF (`pdf_section`), by the Excel
and CSV builders (through `latent_tables`, part of surveyapp.reports.tables.report_tables) and
by the bureau page (template bureau/_latent_index.html, fed by `page_rows`). Its words live
here rather than in wording.LABELS, to keep this optional section in one module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surveyapp.reports.model import Language, Report
    from surveyapp.reports.tables import Table

WORDS: dict[str, tuple[str, str]] = {
    "heading": ("潜变量满意度指数（结构方程模型）", "Latent satisfaction index (PLS path model)"),
    "intro": (
        ("按ACSI与GB/T 19038（中国顾客满意指数）的方法：各维度的题目测量该维度的潜变量，各维度潜变量"
         "影响总体满意度，以偏最小二乘路径模型估计（调查权重参与拟合）。题目权重与维度权重（重要性："
         "对总体满意度的总效应）均由模型估计；指数为以重要性加权的各维度潜变量得分（0-100）。"
         "标准误由抽样设计的{replicates}个自助法重复样本得到（每个重复样本重新加权、重新拟合模型）。"),
        ("As ACSI and GB/T 19038 (China customer satisfaction index) compute it: each dimension's "
         "items measure the dimension as a latent variable, and the dimensions drive overall "
         "satisfaction, in a partial least squares path model fitted with the survey weights. The "
         "items' weights and the dimensions' weights (importance: the total effect on overall "
         "satisfaction) are estimated by the model; the index is the importance-weighted mean of "
         "the dimensions' latent scores (0-100). Standard errors from {replicates} bootstrap "
         "replicates of the sample design, each reweighted and refitted.")),
    "index": ("潜变量指数", "Latent index"),
    "se": ("标准误", "Standard error"),
    "ci": ("95%置信区间", "95% confidence interval"),
    "ci_low": ("95%置信区间下限", "95% CI lower bound"),
    "ci_high": ("95%置信区间上限", "95% CI upper bound"),
    "overall": ("总体满意度潜变量得分", "Overall satisfaction (latent score)"),
    "r2": ("总体满意度的解释度R²", "R² of overall satisfaction"),
    "n": ("有效答卷", "Responses"),
    "col_dimension": ("维度", "Dimension"),
    "col_importance": ("重要性（总效应）", "Importance (total effect)"),
    "col_importance_se": ("重要性标准误", "Importance SE"),
    "col_weight": ("权重", "Weight"),
    "col_impact": ("影响（分/分）", "Impact (points per point)"),
    "col_performance": ("表现（0-100）", "Performance (0-100)"),
    "col_performance_se": ("表现标准误", "Performance SE"),
    "col_quadrant": ("象限", "Quadrant"),
    "keep": ("优势区：继续保持", "Strength: keep up the good work"),
    "improve": ("修补区：优先改进", "Weakness: concentrate here"),
    "secondary": ("机会区：次要改进", "Opportunity: low priority"),
    "surplus": ("维持区：相对过剩", "Maintain: possible overkill"),
    "matrix_note": (
        ("重要性-表现矩阵（GB/T 19038附录D）：分界线为各维度重要性与表现的平均值；重要性高而表现低的"
         "维度位于修补区，应优先改进。"),
        ("Importance-performance matrix (GB/T 19038 Annex D): the lines sit at the mean importance "
         "and the mean performance of the dimensions; a dimension of high importance and low "
         "performance is a weakness to concentrate on.")),
    "chart": ("重要性-表现矩阵（潜变量模型）", "Importance-performance matrix (latent model)"),
    "unavailable": ("本报告未计算潜变量指数：{reason}", "No latent index in this report: {reason}"),
    "summary_table": ("潜变量指数", "Latent index"),
    "dimension_table": ("潜变量模型维度", "Latent model dimensions"),
}


def word(key: str, lang: Language, **values: object) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


@dataclass(frozen=True)
class LatentRow:
    """One dimension of the model: its estimated importance and its performance."""

    code: str
    label: str
    importance: float
    importance_se: float
    weight: float
    impact: float
    performance: float
    performance_se: float
    quadrant: str  # "keep", "improve", "secondary", "surplus"


@dataclass(frozen=True)
class LatentSection:
    """The latent index of the report's area, or only ``unavailable`` (the reason) when the
    data did not allow it. ``chart_id`` names the importance-performance chart among
    ``Report.charts`` (None in chart-less editions)."""

    unavailable: str | None = None
    index: float = float("nan")
    se: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    overall: float = float("nan")
    r_squared: float = float("nan")
    n: int = 0
    replicates: int = 0
    rows: tuple[LatentRow, ...] = ()
    chart_id: str | None = None


def summary_lines(section: LatentSection, lang: Language) -> list[tuple[str, str]]:
    """(label, figure) pairs of the section's headline figures."""
    return [(word("index", lang), f"{section.index:.2f}"), (word("se", lang), f"{section.se:.2f}"),
            (word("ci", lang), f"{section.ci_low:.2f} – {section.ci_high:.2f}"),
            (word("overall", lang), f"{section.overall:.2f}"),
            (word("r2", lang), f"{section.r_squared:.3f}"), (word("n", lang), f"{section.n:,}")]


ROW_HEADERS = ("col_dimension", "col_importance", "col_weight", "col_impact", "col_performance",
               "col_performance_se", "col_quadrant")


def page_rows(section: LatentSection, lang: Language) -> list[tuple[str, ...]]:
    """The dimension rows as display text, for the PDF and the page."""
    return [(r.label, f"{r.importance:.3f}", f"{r.weight:.3f}", f"{r.impact:.3f}",
             f"{r.performance:.2f}", f"{r.performance_se:.2f}", word(r.quadrant, lang))
            for r in section.rows]


def latent_tables(report: Report) -> tuple[Table, ...]:
    """The section as two typed tables for the Excel sheets and CSV sections (none when the
    report has no latent section; one line with the reason when it was not computed)."""
    from surveyapp.reports.tables import Cell, Table

    section, lang = report.latent_index, report.lang
    if section is None:
        return ()
    if section.unavailable is not None:
        return (Table("latent", word("summary_table", lang), (word("heading", lang),),
                      ((Cell(word("unavailable", lang, reason=section.unavailable)),),)),)
    summary = Table("latent", word("summary_table", lang), (
        word("index", lang), word("se", lang), word("ci_low", lang), word("ci_high", lang),
        word("overall", lang),
        word("r2", lang), word("n", lang)), ((
            Cell(section.index, "score"), Cell(section.se, "score"), Cell(section.ci_low, "score"),
            Cell(section.ci_high, "score"), Cell(section.overall, "score"),
            Cell(section.r_squared, "p"), Cell(section.n, "count")),))
    headers = (word("col_dimension", lang), word("col_importance", lang),
               word("col_importance_se", lang), word("col_weight", lang),
               word("col_impact", lang), word("col_performance", lang),
               word("col_performance_se", lang), word("col_quadrant", lang))
    rows = tuple((Cell(r.label), Cell(r.importance, "p"), Cell(r.importance_se, "p"),
                  Cell(r.weight, "p"), Cell(r.impact, "p"), Cell(r.performance, "score"),
                  Cell(r.performance_se, "score"), Cell(word(r.quadrant, lang)))
                 for r in section.rows)
    return summary, Table("latent_dimensions", word("dimension_table", lang), headers, rows)


def page_view(report: Report) -> dict[str, object] | None:
    """What the bureau page's section shows (texts ready to place), or None without one."""
    section, lang = report.latent_index, report.lang
    if section is None:
        return None
    zh_en = f"{WORDS['heading'][0]} {WORDS['heading'][1]}"
    if section.unavailable is not None:
        return {"heading": zh_en, "unavailable": word("unavailable", lang,
                                                      reason=section.unavailable)}
    return {"heading": zh_en, "unavailable": None,
            "intro": word("intro", lang, replicates=section.replicates),
            "summary": summary_lines(section, lang),
            "headers": [word(key, lang) for key in ROW_HEADERS],
            "rows": page_rows(section, lang), "note": word("matrix_note", lang),
            "chart_id": section.chart_id}
