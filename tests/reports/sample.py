"""A hand-built report, shaped like Hongkou's 2019 results, for testing the builders alone."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

from matplotlib.figure import Figure

from surveyapp.reports.model import (
    BandRow,
    Change,
    Chart,
    ChartPoint,
    Count,
    Estimate,
    Headline,
    Margin,
    Method,
    Report,
    ScoreRow,
    StreetRow,
    Weighting,
)

INJECTION = '=HYPERLINK("http://evil.example/","click")'
BANDS = (("满意", "Satisfied", 90, 100), ("比较满意", "Fairly satisfied", 80, 90),
         ("一般", "Neutral", 60, 80), ("不太满意", "Fairly dissatisfied", 40, 60),
         ("不满意", "Dissatisfied", 0, 40))
STREETS_ZH = ["欧阳路街道", "曲阳路街道", "广中路街道", "嘉兴路街道", "凉城新村街道", "四川北路街道",
              "北外滩街道", INJECTION]


BEIJING = ZoneInfo("Asia/Shanghai")
TREND = tuple(ChartPoint(w, v, v - 0.6, v + 0.6)
              for w, v in (("2017", 88.89), ("2018", 90.07), ("2019", 90.24)))


def _png() -> bytes:
    figure = Figure(figsize=(6, 3))
    figure.add_subplot().plot([2017, 2018, 2019], [88.89, 90.07, 90.24])
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=60)
    return out.getvalue()


def _estimate(value: float, n: int, half: float = 0.6) -> Estimate:
    return Estimate(value, half / 1.96, value - half, value + half, n)


def _changes(*diffs: tuple[str, float, bool]) -> tuple[Change, ...]:
    return tuple(Change(w, d, d - 0.8, d + 0.8, 0.01 if s else 0.62, s) for w, d, s in diffs)


def sample_report(lang: str = "zh", kind: str = "district", weighted: bool = True) -> Report:
    zh = lang == "zh"
    dims = [("product", "产品质量" if zh else "Product quality", 89.8, 0.30),
            ("service", "公共服务与管理质量" if zh else "Public service & management quality", 90.5, 0.41),
            ("housing", "房屋与基础设施质量" if zh else "Housing & infrastructure quality", 90.1, 0.56)]
    dimensions = tuple(
        ScoreRow(code, name, _estimate(value, 2400), "满意" if zh else "satisfied",
                 _changes(("2018", diff, diff > 0.5), ("2017", diff + 1.0, True)))
        for code, name, value, diff in dims)
    items = tuple(
        ScoreRow(f"q{i}", f"题目{i}" if zh else f"Item {i}", _estimate(85 + i, 2400 - i),
                 "比较满意" if zh else "fairly satisfied",
                 (_changes(("2018", 0.2 * i, False))[0], None), group=dims[i % 3][1])
        for i in range(1, 7))
    streets = tuple(
        StreetRow(f"31010900{i}", name, 25 if i == 7 else 300,
                  None if i == 7 else _estimate(89 + i / 4, 300, 2.0))
        for i, name in enumerate(STREETS_ZH))
    districts = tuple(
        ScoreRow(f"3101{i:02d}", ("虹口区" if zh else "Hongkou") if i == 9 else f"区{i}",
                 _estimate(92 - i * 0.5, 2000), None, _changes(("2018", 0.1 * i, i % 4 == 0),
                                                              ("2017", 0.5, False)))
        for i in range(1, 17))
    margins = (Margin("sex", "F", 391000, 391000.4), Margin("sex", "M", 380000, 379999.6))
    weighting = (Weighting(True, None, "census-2020", margins, True, 4, 0.4) if weighted else
                 Weighting(False, "未加权说明" if zh else "No margins: unweighted.", None, (), None,
                           None, None))
    method = Method(
        n=2400, counts=tuple(Count(s.label, s.n) for s in streets), weighting=weighting,
        design="按区分层" if zh else "Stratified by district", deff=1.31, effective_n=1832.1,
        excluded=12, first_response=datetime(2019, 9, 2, 8, 0),
        last_response=datetime(2019, 10, 30, 17, 5),
        wave_opens=datetime(2019, 9, 1), wave_closes=datetime(2019, 10, 31),
        questionnaire_version="2019.1", suppress_below=30,
        bands=tuple(BandRow(zh_label if zh else en_label, lower, upper)
                    for zh_label, en_label, lower, upper in BANDS),
        time_zone="北京时间, UTC+08:00" if zh else "Beijing time, UTC+08:00",
        reverse_scored=True)
    headline = Headline(_estimate(90.24, 2400), "满意" if zh else "satisfied",
                        _changes(("2018", 0.17, False), ("2017", 1.35, True)),
                        3 if kind == "district" else None, 16 if kind == "district" else None,
                        _estimate(85.13, 32000, 0.2) if kind == "district" else None)
    return Report(
        kind=kind, lang=lang,
        area=("虹口区" if zh else "Hongkou") if kind == "district" else ("上海市" if zh else "Shanghai"),
        area_code="310109" if kind == "district" else None, wave="2019",
        questionnaire="市民质量满意度测评" if zh else "Citizen quality satisfaction survey",
        earlier_waves=("2018", "2017"), headline=headline,
        dimension_heading="分维度得分" if zh else "Dimension scores",
        dimensions=dimensions, items=items, streets=streets if kind == "district" else (),
        districts=districts, charts=(Chart("trend", "趋势" if zh else "Trend", _png(), TREND),
                                       Chart("districts", "各区" if zh else "Districts", _png(),
                                             tuple(ChartPoint(r.label, r.estimate.value,
                                                              r.estimate.ci_low, r.estimate.ci_high)
                                                   for r in districts))),
        method=method, generated_at=datetime(2019, 11, 5, 9, 30, tzinfo=BEIJING))


def csv_zip(document: bytes) -> dict[str, bytes]:
    """The files of a report's CSV edition (a zip) by name, as raw bytes."""
    with zipfile.ZipFile(io.BytesIO(document)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_tables(document: bytes) -> dict[str, list[dict[str, str]]]:
    """Each CSV table of a report's CSV edition by its id ("streets"), as rows of header: value."""
    return {name.split("_", 1)[1].removesuffix(".csv"):
            list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
            for name, data in csv_zip(document).items() if name.endswith(".csv")}
