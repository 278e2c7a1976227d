"""The PDF renders to pages that carry the district's name and score as real, embedded text."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import noto_cjk_sans_otc
import pytest
from fontTools.ttLib import TTCollection
from fpdf import FPDF

from surveyapp.reports import fonts
from surveyapp.reports.fonts import FONT, SIMPLIFIED_CHINESE_FACE, CJKPDF
from surveyapp.reports.pdf import build_pdf
from surveyapp.reports.tables import report_tables
from surveyapp.reports.wording import LABELS
from tests.reports.sample import sample_report

pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) is not installed")


def _render(report, tmp_path: Path, layout: bool = True) -> tuple[list[Path], str]:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(build_pdf(report))
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    text = subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    return sorted(tmp_path.glob("page-*.png")), text


def test_chinese_district_report_renders_with_name_and_score(tmp_path):
    pages, text = _render(sample_report("zh"), tmp_path)
    assert len(pages) >= 2 and all(p.stat().st_size > 1000 for p in pages)
    first_page = text.split("\f")[0]
    assert "虹口区" in first_page and "90.24" in first_page
    assert "在16个区中排名第3" in first_page and "85.13" in first_page
    assert "变化不显著" in first_page and "变化显著" in first_page


def test_english_edition(tmp_path):
    pages, text = _render(sample_report("en"), tmp_path)
    first_page = text.split("\f")[0]
    assert pages and "Hongkou" in first_page and "90.24" in first_page
    assert "Ranked 3 of 16 districts" in first_page
    assert "not significant" in first_page


def test_suppressed_street_shows_no_score(tmp_path):
    _, text = _render(sample_report("en"), tmp_path)
    line = next(ln for ln in text.splitlines() if "fewer than 30 responses" in ln and "25" in ln)
    assert "." not in line.replace("evil.example", "")  # no score with decimals on that line


def test_city_report_ranks_all_districts(tmp_path):
    _, text = _render(sample_report("zh", kind="city"), tmp_path)
    assert "各区排名" in text and "上海市" in text
    assert all(f"区{i}" in text for i in (1, 8, 16))


def test_font_is_embedded_and_no_character_is_missing(tmp_path):
    report = sample_report("zh")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(build_pdf(report))
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                           text=True).stdout
    font_lines = fonts.splitlines()[2:]
    assert font_lines and all("NotoSansCJKSC" in ln and " yes yes yes " in ln for ln in font_lines)
    with TTCollection(str(noto_cjk_sans_otc.FONT_PATH), lazy=True) as collection:
        cmap = collection.fonts[SIMPLIFIED_CHINESE_FACE]["cmap"].getBestCmap()
    texts = {str(c.value) for t in report_tables(report) for row in t.rows for c in row}
    texts |= {text for pair in LABELS.values() for text in pair}
    missing = {ch for text in texts for ch in text if ord(ch) not in cmap and not ch.isspace()}
    assert not missing


def _one_page(pdf: FPDF, text: str) -> bytes:
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font(FONT, size=30)
    pdf.multi_cell(0, 12, text, wrapmode="CHAR")
    return bytes(pdf.output())


@pytest.mark.parametrize("text", ["虹口区 市民满意度 90.24 (2023) ⅓ — 龘", "ABC 123", " "])
def test_the_kept_glyph_bounds_give_the_file_fonttools_gives(text):
    """CJKPDF skips fontTools' bounding-box pass and sets the subset's box itself: the file is
    byte for byte fpdf2's own, with the bounds cold and then kept."""
    plain = FPDF()
    plain.add_font(FONT, "", str(noto_cjk_sans_otc.FONT_PATH),
                   collection_font_number=SIMPLIFIED_CHINESE_FACE)
    expected = _one_page(plain, text)
    fonts._glyph_bounds.clear()
    assert _one_page(CJKPDF(), text) == expected
    assert fonts._glyph_bounds and _one_page(CJKPDF(), text) == expected


def test_text_from_uploads_is_printed_literally(tmp_path):
    _, text = _render(sample_report("en"), tmp_path, layout=False)
    assert '=HYPERLINK("http://evil.example/","click")' in text.replace("\n", "")


def test_a_name_like_the_page_count_placeholder_prints_as_itself(tmp_path):
    report = sample_report("en")
    report = dataclasses.replace(report, area="{nb} District")
    pages, text = _render(report, tmp_path, layout=False)
    assert "{nb} District" in text
    assert f"{len(pages)}/{len(pages)}" in text.replace(" ", "")


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler's pdfimages")
@pytest.mark.parametrize("lang, heading", [("zh", "历次趋势"), ("en", "Trend")])
def test_page_one_carries_the_trend_under_the_dimension_table(tmp_path, lang, heading):
    """Page one alone tells the story: the trend fills the room left under the dimensions."""
    _, text = _render(sample_report(lang), tmp_path)
    first_page = text.split("\f")[0]
    assert heading in first_page and first_page.index(heading) > first_page.index("90.24")
    listing = subprocess.run(["pdfimages", "-list", str(tmp_path / "report.pdf")], check=True,
                             capture_output=True, text=True).stdout.splitlines()[2:]
    pages = [int(line.split()[0]) for line in listing]
    assert pages.count(1) == 1 and pages == sorted(pages)  # the trend; the others later
    assert text.index(LABELS["charts"][0 if lang == "zh" else 1]) > len(first_page)


@pytest.mark.parametrize("lang, expected", [
    ("zh", ["市民质量满意度测评（2019.1版）", "2019-11-05 09:30（北京时间, UTC+08:00）",
            "2019-09-01 – 2019-10-31（北京时间, UTC+08:00）", "等级划分", "90 ≤ 得分 ≤ 100",
            "80 ≤ 得分 < 90", "反向计分"]),
    ("en", ["Citizen quality satisfaction survey, version 2019.1",
            "2019-11-05 09:30 (Beijing time, UTC+08:00)", "Bands", "90 ≤ score ≤ 100",
            "0 ≤ score < 40", "Reverse-scored items"]),
])
def test_method_names_version_zone_bands_and_reverse_scoring(tmp_path, lang, expected):
    _, text = _render(sample_report(lang), tmp_path, layout=False)
    flat = " ".join(text.split())
    for phrase in expected:
        assert " ".join(phrase.split()) in flat, phrase
    assert "UTC " not in flat and "abababab" not in flat  # no UTC times, no content hash
    assert flat.index(" ".join(expected[0].split())) < flat.index(LABELS["index"][lang == "en"])
