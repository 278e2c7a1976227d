"""The fixed words of a report in Chinese and English, and how figures are written out.

Reports are built outside a request too (CLI, cache warm-up), so their words live here rather
than in the request-bound Babel catalogue.
"""
from __future__ import annotations

from datetime import datetime

from surveyapp.reports.model import BandRow, Change, Estimate, Language, Report

LABELS: dict[str, tuple[str, str]] = {
    "district_title": ("{area}{questionnaire}结果报告", "{area}: {questionnaire} results"),
    "city_title": ("全市{questionnaire}结果报告", "City-wide {questionnaire} results"),
    "subtitle": ("{questionnaire}结果报告（{wave}）", "{questionnaire}: results of wave {wave}"),
    "wave": ("测评批次", "Wave"),
    "index": ("综合指数", "Satisfaction index"),
    "band": ("等级", "Band"),
    "ci95": ("95%置信区间", "95% confidence interval"),
    "changes": ("与往期比较", "Change against earlier waves"),
    "no_earlier": ("没有可比较的往期数据。", "No earlier wave to compare with."),
    "sig_up": ("显著提高", "Significant rise"),
    "sig_down": ("显著下降", "Significant fall"),
    "not_sig": ("无显著变化", "No significant change"),
    "significance_mark": ("* 变化在5%水平上显著。", "* change significant at the 5% level."),
    "rank": ("在{of}个区中排名第{rank}", "Ranked {rank} of {of} districts"),
    "ranked_of": ("参与排名的区数", "Districts ranked"),
    "city_mean": ("全市平均", "City mean"),
    "dimensions": ("分维度得分", "Dimension scores"),
    "sectors": ("分行业得分", "Sector scores"),
    "items": ("分题目得分", "Item scores"),
    "streets": ("分街道（镇）得分", "Scores by street"),
    "districts": ("各区排名", "Districts ranked"),
    "charts": ("图表", "Charts"),
    "trend": ("历次趋势", "Trend"),
    "method": ("方法说明", "Method"),
    "summary": ("概要", "Summary"),
    "margins": ("加权目标", "Weighting margins"),
    "chart_trend": ("历次测评趋势（阴影为95%置信区间）", "Trend over waves (bands: 95% intervals)"),
    "chart_districts": ("各区比较", "Districts compared"),
    "chart_drivers": ("重要性-表现分析", "Importance and performance of the dimensions"),
    # table headers
    "col_code": ("代码", "Code"),
    "col_name": ("名称", "Name"),
    "col_dimension": ("维度", "Dimension"),
    "col_item": ("题目", "Item"),
    "col_street": ("街道（镇）", "Street"),
    "col_district": ("区", "District"),
    "col_rank": ("排名", "Rank"),
    "col_n": ("样本量", "Responses"),
    "col_score": ("得分", "Score"),
    "col_se": ("标准误", "Std. error"),
    "col_ci_low": ("置信区间下限", "95% CI low"),
    "col_ci_high": ("置信区间上限", "95% CI high"),
    "col_ci": ("95%置信区间", "95% CI"),
    "downloads": ("下载", "Downloads"),
    "col_change": ("较{wave}变化", "Change vs {wave}"),
    "col_change_ci_low": ("较{wave}变化下限", "Change vs {wave}: CI low"),
    "col_change_ci_high": ("较{wave}变化上限", "Change vs {wave}: CI high"),
    "col_p": ("较{wave} p值", "p vs {wave}"),
    "col_significant": ("较{wave}是否显著", "Significant vs {wave}"),
    "col_compared_with": ("比较批次", "Compared with"),
    "col_diff": ("变化", "Change"),
    "col_diff_ci_low": ("变化下限", "Change: CI low"),
    "col_diff_ci_high": ("变化上限", "Change: CI high"),
    "col_p_value": ("p值", "p"),
    "col_is_significant": ("是否显著", "Significant"),
    "col_verdict": ("结论", "Verdict"),
    "col_variable": ("变量", "Variable"),
    "col_category": ("类别", "Category"),
    "col_target": ("目标数", "Target"),
    "col_achieved": ("加权后", "Weighted"),
    "col_item_label": ("项目", "Figure"),
    "col_value": ("数值", "Value"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "suppressed": ("不足{limit}份，不予显示", "fewer than {limit} responses: not shown"),
    "withheld": ("为防推算，不予显示", "withheld so that a smaller street cannot be derived"),
    "suppressed_note": (
        "样本量少于{limit}份的街道（镇）不显示得分，仅列出样本量；为防止由全区结果和其他街道"
        "推算出其得分，样本量最小的其他街道一并不予显示。",
        "Streets with fewer than {limit} responses are marked and their scores are not shown; "
        "so that the district figure and the other streets cannot reveal them, the next-smallest "
        "streets are withheld too.",
    ),
    # method
    "m_n": ("有效样本量", "Valid responses"),
    "m_design": ("抽样设计", "Design"),
    "m_weighting": ("加权方法", "Weighting"),
    "m_raked": ("按人口边际分布进行迭代比例加权（raking）", "Raking to population margins"),
    "m_unweighted": ("未加权", "Unweighted"),
    "m_converged": ("收敛情况", "Convergence"),
    "m_converged_yes": ("已收敛：{iterations}次迭代，最终误差{misfit}",
                        "converged after {iterations} iterations, final misfit {misfit}"),
    "m_converged_no": ("未收敛：{iterations}次迭代，最终误差{misfit}",
                       "NOT converged after {iterations} iterations, final misfit {misfit}"),
    "m_deff": ("设计效应", "Design effect"),
    "m_neff": ("有效样本量（n/deff）", "Effective sample size (n/deff)"),
    "m_excluded": ("排除的问卷（数据质量）", "Responses excluded (data quality)"),
    "m_dates": ("答卷时间", "Responses submitted"),
    "m_wave_dates": ("测评期", "Wave open"),
    "m_questionnaire": ("问卷及版本", "Questionnaire and version"),
    "questionnaire_version": ("{title}（{version}版）", "{title}, version {version}"),
    "m_reverse": ("反向计分", "Reverse-scored items"),
    "m_reverse_text": (
        ("标有“（反向计分）”的题目为负面表述（如“经常遇到假冒伪劣商品”），计分时已反转"
         "（选最高一档得0分，最低一档得100分），因此与其他题目一样，得分越高表示情况越好。"),
        ("Items marked \"(reverse-scored)\" are worded negatively (e.g. \"I often come across "
         "counterfeit goods\"); their answers are reversed in scoring (the top answer scores 0, "
         "the bottom one 100), so that, as for every other item, a higher score is better."),
    ),
    "reverse_mark": ("（反向计分）", " (reverse-scored)"),
    "bands": ("等级划分", "Bands"),
    "col_band_range": ("得分范围", "Score range"),
    "col_lower": ("下限（含）", "From (inclusive)"),
    "col_upper": ("上限（不含，100除外）", "Below (100 inclusive)"),
    "band_range": ("{lower} ≤ 得分 < {upper}", "{lower} ≤ score < {upper}"),
    "band_range_top": ("{lower} ≤ 得分 ≤ {upper}", "{lower} ≤ score ≤ {upper}"),
    "col_note": ("备注", "Note"),
    "col_table": ("表", "Table"),
    "row_changes": ("各行与往期比较", "Changes by row"),
    "csv_readme": (
        ("每个CSV文件是一张表：第一行为列名，其后每行一条记录；编码为带BOM的UTF-8，可直接用Excel"
         "打开。得分保留四位小数（报告中显示两位）；空白单元格表示不予显示的数值，原因见该表的"
         "“备注”列。"),
        ("Each CSV file holds one table: a header row, then one record per row; UTF-8 with a "
         "byte-order mark, so Excel opens it directly. Scores have four decimals (the report "
         "shows two); an empty cell is a figure that is not shown, and the table's Note column "
         "says why."),
    ),
    "m_suppress": ("街道结果显示下限", "Street results suppressed below"),
    "m_counts_street": ("各街道（镇）样本量", "Responses by street"),
    "m_counts_district": ("各区样本量", "Responses by district"),
    "m_confidence": ("置信水平", "Confidence level"),
    "m_generated": ("生成时间", "Generated"),
    "unweighted_note": (
        "尚未上传人口边际分布，以下结果未加权，可能不能代表总体结构。",
        ("No population margins have been uploaded: the figures are unweighted and may not "
        "reflect the population's make-up."),
    ),
    "unweighted_failed": (
        "人口边际分布无法用于本批次（{reason}），以下结果未加权，可能不能代表总体结构。",
        ("The population margins could not be applied to this wave ({reason}): the figures are "
        "unweighted and may not reflect the population's make-up."),
    ),
    "m_margin_set": ("边际分布", "Margin set"),
    "city": ("全市", "City-wide"),
    "overall_group": ("总体", "Overall"),
    "design_text": (
        "{design}。方差采用泰勒线性化估计，区间使用设计自由度的t分布；街道结果不以街道为初级单位（每份答卷为一个单位）。",
        ("{design}. Taylor-linearised variance, t intervals with the design's degrees of "
        "freedom; street figures never treat the street as the PSU (each response is a unit)."),
    ),
    # small-area estimates for streets (surveyapp.services.small_area)
    "small_area": ("街道（镇）小区域估计（模型估计）", "Small-area estimates by street"),
    "col_direct": ("直接估计", "Direct estimate"),
    "col_basis": ("估计类型", "Basis"),
    "col_model": ("模型估计", "Model-based estimate"),
    "col_rmse": ("均方根误差", "RMSE"),
    "col_model_ci": ("模型估计95%区间", "Model-based 95% interval"),
    "col_model_ci_low": ("模型估计区间下限", "Model-based: 95% low"),
    "col_model_ci_high": ("模型估计区间上限", "Model-based: 95% high"),
    "basis_eblup": ("模型估计 / model-based（EBLUP）", "model-based / 模型估计 (EBLUP)"),
    "basis_synthetic": ("模型估计 / model-based（合成估计）",
                        "model-based / 模型估计 (synthetic)"),
    "model_withheld": ("为防推算直接估计，不予显示",
                       "withheld: it would reveal the withheld direct estimate"),
    "aux_district_index": ("本期全区综合指数", "the district's index in this wave"),
    "aux_previous_street": ("上期（{wave}）街道综合指数", "the street's index in wave {wave}"),
    "small_area_note": (
        ("模型估计采用Fay-Herriot区域层次模型（REML方差估计，Prasad-Rao均方误差），以{aux}为辅助变量，"
        "对全部街道（镇）联合拟合；区间为估计值±1.96倍均方根误差。模型估计借用其他街道的信息，"
        "不是直接调查结果，保留一位小数。样本量少于{min_n}份的街道只给出合成估计，不使用其答卷。"
        "直接估计不予显示的街道，若模型估计主要取决于其本身答卷，模型估计也不予显示。"),
        ("Model-based figures come from an area-level Fay-Herriot model (REML variance, "
        "Prasad-Rao MSE) fitted over all streets of the wave, with {aux} as auxiliaries; "
        "intervals are the estimate -/+ 1.96 RMSE. They borrow strength from other streets, are "
        "not direct survey results, and are given to one decimal. Streets with fewer than "
        "{min_n} responses get the synthetic estimate, which does not use their responses. "
        "Where a street's direct estimate is withheld and its own responses would dominate the "
        "model figure, that is withheld too."),
    ),
    "aux_and": ("、", " and "),
}


def label(key: str, lang: Language, **values: object) -> str:
    """The fixed text ``key`` in ``lang``, with ``values`` filled in."""
    zh, en = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


def street_mark(n: int, limit: int, lang: Language) -> str:
    """What a withheld street shows instead of its score: too few responses, or withheld as
    the complement of one that has too few (surveyapp.services.disclosure)."""
    return label("suppressed", lang, limit=limit) if n < limit else label("withheld", lang)


def score(value: float) -> str:
    """Scores are published with two decimals (e.g. 90.24)."""
    return f"{value:.2f}"


def signed(value: float) -> str:
    """A change with its sign (+0.17 / -0.42)."""
    return f"{value:+.2f}"


def interval(low: float, high: float) -> str:
    return f"{low:.2f} – {high:.2f}"


def estimate_text(estimate: Estimate) -> str:
    """``90.24 [89.61 – 90.87]``: a score with its 95% interval."""
    return f"{score(estimate.value)} [{interval(estimate.ci_low, estimate.ci_high)}]"


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def verdict(change: Change, lang: Language) -> str:
    """A plain-words sentence saying whether a change is real or within sampling error."""
    d, lo, hi = signed(change.difference), signed(change.ci_low), signed(change.ci_high)
    p = p_value(change.p_value)
    w = change.earlier_wave
    if lang == "zh":
        trend = "提高" if change.difference > 0 else "下降"
        if change.significant:
            return f"较{w}变化{d}分（95%置信区间{lo}～{hi}，{p}），变化显著：确有{trend}。"
        return (f"较{w}变化{d}分（95%置信区间{lo}～{hi}，{p}），变化不显著："
                "在抽样误差范围内，不能认为有实际变化。")
    # Starts with a word: a sentence opening with "+" or "-" is taken for a formula by
    # spreadsheets and gets a guarding apostrophe (surveyapp.reports.safety).
    trend = "a real improvement" if change.difference > 0 else "a real decline"
    if change.significant:
        return f"Change on {w}: {d} points (95% CI {lo} to {hi}, {p}): significant, {trend}."
    return (f"Change on {w}: {d} points (95% CI {lo} to {hi}, {p}): not significant, "
            "within sampling error; no real change is shown.")


def timestamp(moment: datetime | None) -> str:
    """A moment as the report holds it (already in the service's zone, named in the method)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "–"


def date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "–"


def zoned(text: str, report: Report) -> str:
    """``text`` with the zone its times are in: "2024-09-01 – 2024-11-30（北京时间, UTC+08:00）"."""
    zone = report.method.time_zone
    if not zone:
        return text
    return f"{text}（{zone}）" if report.lang == "zh" else f"{text} ({zone})"


def band_range(band: BandRow, lang: Language) -> str:
    """"80 ≤ 得分 < 90"; the top band includes 100."""
    key = "band_range_top" if band.upper == 100 else "band_range"
    return label(key, lang, lower=f"{band.lower:g}", upper=f"{band.upper:g}")


def questionnaire_version(report: Report) -> str:
    """The questionnaire as people know it: "市民质量满意度测评（2024.1版）"."""
    return label("questionnaire_version", report.lang, title=report.questionnaire,
                 version=report.method.questionnaire_version)


def title(report: Report) -> str:
    key = "district_title" if report.kind == "district" else "city_title"
    return label(key, report.lang, area=report.area, questionnaire=report.questionnaire)
