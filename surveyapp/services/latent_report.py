"""The latent-index section of a report (surveyapp.reports.latent_section) and its chart.

Part of every report whose questionnaire can carry the model (an overall item, two or more
dimensions); an area with too few responses gets the section with the reason instead of
figures. The importance-performance chart is drawn only for editions with charts.
"""
from __future__ import annotations

import io

import pandas as pd

from surveyapp.reports.latent_section import LatentRow, LatentSection, word
from surveyapp.reports.model import Chart, Language
from surveyapp.services.latent_index import LatentIndexCache

CHART_ID = "latent_ipa"
CHART_DPI = 120  # as the report's other charts


def latent_section(cache: LatentIndexCache | None, area: str, lang: Language, draw: bool
                   ) -> tuple[LatentSection | None, Chart | None]:
    """The section for ``area`` (a district code or the city), and its chart when ``draw``."""
    if cache is None or not cache.applies:
        return None, None
    found = cache.area(area)
    result = found.areas.get(area)
    if result is None:
        return LatentSection(unavailable=found.unavailable.get(area, "–")), None
    names = {key: pair[0 if lang == "zh" else 1] for key, pair in found.dimension_names.items()}
    table = result.dimensions
    rows = tuple(LatentRow(key, names.get(key, key), r.importance, r.importance_se, r.weight,
                           r.impact, r.performance, r.performance_se, r.quadrant)
                 for key, r in table.iterrows())
    chart = _chart(table, names, lang) if draw else None
    return LatentSection(index=result.index, se=result.se, ci_low=result.ci_low,
                         ci_high=result.ci_high, overall=result.overall,
                         r_squared=result.r_squared, n=result.n, replicates=result.replicates,
                         rows=rows, chart_id=chart.id if chart else None), chart


def _chart(table: pd.DataFrame, names: dict[str, str], lang: Language) -> Chart:
    from analysis.plots import importance_performance_chart  # matplotlib: when drawing

    title = word("chart", lang)
    figure = importance_performance_chart(
        table.rename(columns={"importance": "coefficient"}), names=names, centre="mean",
        lang=lang, title=title)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=CHART_DPI)
    return Chart(CHART_ID, title, out.getvalue())
