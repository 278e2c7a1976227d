"""The small-area estimates of one district as the API gives them, per caller.

Everyone who may see the district gets what its report publishes (surveyapp.services.
small_area: direct figures under the disclosure rule, rounded model figures); analysts and
admins, who may read the microdata anyway, also get the model itself (coefficients, model
variance, shrinkage, the direct values the reports withhold).
"""
from __future__ import annotations

from surveyapp.models.survey import Wave
from surveyapp.services.disclosure import suppress_below
from surveyapp.services.report_cache import cached_inputs
from surveyapp.services.small_area import (
    MAX_OWN_WEIGHT,
    MIN_DIRECT_N,
    analyst_json,
    published_json,
)
from surveyapp.services.small_area_report import district_published


def small_area_document(wave: Wave, district: str, with_model: bool) -> dict:
    """The district's streets (``with_model``: plus the analyst-only model); SmallAreaError
    when the wave has too few streets for a model."""
    limit = suppress_below()
    model, published = district_published(cached_inputs(wave), district, limit)
    document = {
        "wave": wave.label, "questionnaire": wave.questionnaire_version.key,
        "district": district, "method": "Fay-Herriot EBLUP, REML, Prasad-Rao MSE",
        "level": 0.95, "suppress_below": limit, "min_direct_n": MIN_DIRECT_N,
        "max_own_weight": MAX_OWN_WEIGHT, "streets": published_json(published)}
    if with_model:
        document["model"] = analyst_json(model, [row.code for row in published])
    return document
