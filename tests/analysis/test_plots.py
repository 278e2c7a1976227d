"""Charts: Figure objects with Chinese text that renders, embeds and extracts."""
import io
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pypdf
import pytest
from matplotlib.figure import Figure

from analysis.plots import district_comparison_chart, importance_performance_chart, trend_chart

TREND = pd.DataFrame({"estimate": [88.89, 90.07, 90.24], "ci_low": [88.2, 89.5, 89.6],
                      "ci_high": [89.6, 90.6, 90.9]}, index=["2017", "2018", "2019"])
DISTRICTS = pd.DataFrame({"estimate": [85.9, 87.2, 83.4], "ci_low": [84.8, 86.1, 82.0],
                          "ci_high": [87.0, 88.3, 84.8]}, index=["虹口区", "黄浦区", "徐汇区"])
DRIVERS = pd.DataFrame({"coefficient": [0.30, 0.50, 0.15], "performance": [88.0, 84.0, 91.0]},
                       index=["product", "service", "housing"])
NAMES = {"product": "产品质量", "service": "公共服务与管理质量", "housing": "房屋与基础设施质量"}


def all_charts(lang):
    return [trend_chart(TREND, lang=lang),
            district_comparison_chart(DISTRICTS, highlight="虹口区", city_mean=85.13, lang=lang),
            importance_performance_chart(DRIVERS, names=NAMES, lang=lang)]


def render(fig, fmt):
    """Save to bytes and return them with every warning raised meanwhile."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buffer, format=fmt)
    return buffer.getvalue(), [str(w.message) for w in caught]


def glyph_warnings(messages):
    return [m for m in messages if "Glyph" in m and "missing" in m]


@pytest.mark.parametrize("fmt", ["png", "pdf"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_render_without_missing_glyphs(lang, fmt):
    for fig in all_charts(lang):
        assert isinstance(fig, Figure)
        data, messages = render(fig, fmt)
        assert glyph_warnings(messages) == [] and messages == []
        assert len(data) > 1000


def test_the_missing_glyph_check_can_fail():
    """Chinese drawn with matplotlib's default font does warn, so the check above is meaningful."""
    fig = Figure()
    fig.add_subplot().set_title("虹口区")
    _, messages = render(fig, "png")
    assert glyph_warnings(messages)


def pdf_font_names(data):
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    return {str(font.get_object()["/BaseFont"]) for font in fonts.values()}


def test_pdf_embeds_the_noto_cjk_font():
    data, _ = render(district_comparison_chart(DISTRICTS, lang="zh"), "pdf")
    names = pdf_font_names(data)
    assert names and all("NotoSansCJKsc" in name for name in names), names


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_chinese_text_can_be_extracted_from_the_pdf():
    """matplotlib's default Type 3 fonts carry a ToUnicode map; -raw keeps content order (the
    Type 3 glyph boxes are too tall for pdftotext's layout mode to keep "-" inside a title)."""
    data, _ = render(importance_performance_chart(DRIVERS, names=NAMES, lang="zh"), "pdf")
    text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True, check=True).stdout
    text = text.decode("utf-8")
    for expected in ("重要性-表现分析", "公共服务与管理质量", "优先改进"):
        assert expected in text


def test_titles_and_labels_follow_the_language():
    zh, en = trend_chart(TREND, lang="zh").axes[0], trend_chart(TREND, lang="en").axes[0]
    assert zh.get_title() == "满意度得分变化趋势" and zh.get_xlabel() == "测评年度"
    assert en.get_title() == "Satisfaction score over waves" and en.get_xlabel() == "Wave"
    assert trend_chart(TREND, title="虹口区").axes[0].get_title() == "虹口区"


def test_trend_chart_draws_the_estimates_band_and_wave_labels():
    ax = trend_chart(TREND, lang="en").axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), TREND["estimate"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2017", "2018", "2019"]
    assert [t.get_text() for t in ax.texts] == ["88.89", "90.07", "90.24"]
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(88.2) and band[:, 1].max() == pytest.approx(90.9)


def test_district_chart_sorts_highlights_and_draws_city_mean():
    ax = district_comparison_chart(DISTRICTS, highlight="虹口区", city_mean=85.13).axes[0]
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels] == ["徐汇区", "虹口区", "黄浦区"]  # best at the top
    colours = {t.get_text(): t.get_color() for t in labels}
    assert colours["虹口区"] != colours["黄浦区"] == colours["徐汇区"]
    assert ax.lines[0].get_xdata()[0] == pytest.approx(85.13)
    assert ax.get_legend().get_texts()[0].get_text() == "全市平均 85.13"


@pytest.mark.parametrize("centre, x0, y0", [("median", 0.30, 88.0), ("mean", 0.95 / 3, 263 / 3)])
def test_importance_performance_quadrant_lines_and_point_labels(centre, x0, y0):
    ax = importance_performance_chart(DRIVERS, names=NAMES, centre=centre, lang="zh").axes[0]
    vertical, horizontal = ax.lines[0], ax.lines[1]
    assert vertical.get_xdata()[0] == pytest.approx(x0)
    assert horizontal.get_ydata()[0] == pytest.approx(y0)
    texts = [t.get_text() for t in ax.texts]
    assert {"产品质量", "公共服务与管理质量", "房屋与基础设施质量", "优先改进", "继续保持"} <= set(texts)


@pytest.mark.parametrize("build, message", [
    (lambda: trend_chart(TREND, lang="fr"), "lang must be 'zh' or 'en'"),
    (lambda: trend_chart(TREND.drop(columns="ci_low")), r"lacks the columns \['ci_low'\]"),
    (lambda: trend_chart(TREND.iloc[:0]), "no rows"),
    (lambda: district_comparison_chart(DISTRICTS, highlight="浦东新区"), "'浦东新区' is not one of"),
    (lambda: importance_performance_chart(DRIVERS.drop(columns="performance")), "lacks the columns"),
    (lambda: importance_performance_chart(DRIVERS, centre="mode"), "centre must be"),
])
def test_bad_input_is_rejected_with_a_message(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_plots_never_import_pyplot():
    code = "import analysis.plots, sys; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
