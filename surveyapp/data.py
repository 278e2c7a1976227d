"""The analyst's Python entry point: a wave's responses as a DataFrame ready for SurveyDesign.

    >>> from surveyapp.data import load_responses
    >>> from analysis import SurveyDesign
    >>> df = load_responses(wave="2024", margins="demo-2024")
    >>> d = SurveyDesign(df, **df.attrs["design"])
    >>> d.mean("index", by="district")

Works inside a Flask application context or outside one (it then builds the app from the
environment, as the ``surveyapp`` command does, and speaks the command line's language:
SURVEYAPP_LANG, else English under an English LANG, else Chinese).
"""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager

import pandas as pd
from flask import has_app_context

from surveyapp.specs import spec_from_dict


def load_responses(
    wave: str | int,
    *,
    questionnaire: str | None = None,
    margins: str | None = None,
    weighting: str = "rake",
    variables: Iterable[str] = (),
    trim: tuple[float | None, float | None] | None = None,
    exclusions: str = "recorded",
    min_duration_seconds: float | None = None,
    districts: Iterable[str] | None = None,
    design: dict | None = None,
    include_comments: bool = False,
) -> pd.DataFrame:
    """One row per response of ``wave`` (its label, e.g. "2024"), in response-id order.

    ``questionnaire`` (a key such as "citizen") picks the wave when several share the label.

    Columns: response_id, wave, district, street, sex, age_group, residence_years, language,
    channel, submitted_at (UTC), duration_seconds, the raw answer of every item (by item id),
    the 0-100 scores ``item_<id>``, ``dim_<id>``, ``index`` and ``overall``, and ``weight``:
    the final weight (1.0 without ``margins``; otherwise raked, or post-stratified with
    ``weighting="poststratify"``, to the named margin set, then trimmed to ``trim`` = (lower,
    upper) multiples of the mean weight). ``exclusions="recorded"`` drops the responses an
    administrator excluded; ``"none"`` keeps them. ``df.attrs["design"]`` holds the keyword
    arguments for ``analysis.SurveyDesign`` (weights, strata, psu, fpc, lonely_psu): the
    wave's declared sample design (surveyapp.services.sample_design), whose extra columns
    (e.g. ``district_street``, ``streets_in_district``) the frame carries, unless ``design``
    ({"strata": ..., "psu": ..., "lonely_psu": ...}, as in an estimate spec) overrides it.
    ``df.attrs["design_note"]`` says which it is. ``df.attrs["street_design"]``: the same for
    estimates by street (the street rule of sample_design: never the street as the PSU), or
    None when the design cannot give street estimates (a street with one response under "fail").

    Raises ``surveyapp.specs.SpecError`` naming each bad argument (unknown wave, margin set...).
    """
    from surveyapp.services.declared_design import DesignError
    from surveyapp.services.estimation import find_waves, load_wave, wave_design, weighted_design

    document = {
        "waves": [str(wave)],
        "questionnaire": questionnaire,
        "design": design,
        "weighting": _weighting(margins, weighting, variables, trim),
        "exclusions": {"policy": exclusions, "min_duration_seconds": min_duration_seconds},
    }
    with _app_context():
        spec = spec_from_dict(document, source_name="load_responses")
        (found,) = find_waves(spec.waves, spec.questionnaire)
        data = load_wave(found, districts=None if districts is None else list(districts),
                         exclusions=spec.exclusions.policy,
                         min_duration_seconds=spec.exclusions.min_duration_seconds,
                         include_comments=include_comments)
        prepared = wave_design(data, spec)
        weighted, note = weighted_design(prepared, spec)
    frame = prepared.frame
    frame["weight"] = weighted.weights
    frame.attrs["design"] = {"weights": "weight", **prepared.arguments.kwargs()}
    frame.attrs["design_note"] = prepared.note()
    try:
        street = prepared.for_domain("street").arguments.kwargs()
    except DesignError:  # e.g. a street with one response under the lonely-PSU rule "fail"
        frame.attrs["street_design"] = None
    else:
        frame.attrs["street_design"] = {"weights": "weight", **street}
    frame.attrs["weighting"] = note
    frame.attrs["questionnaire"] = data.questionnaire.id
    return frame


def _weighting(margins: str | None, method: str, variables: Iterable[str],
               trim: tuple[float | None, float | None] | None) -> dict:
    if margins is None:
        return {"method": "none"}
    weighting = {"method": method, "margins": margins, "variables": list(variables)}
    if trim is not None:
        weighting["trim"] = {"lower": trim[0], "upper": trim[1]}
    return weighting


@contextmanager
def _app_context():
    """The current application context, or a new one built from the environment."""
    if has_app_context():
        yield
        return
    from surveyapp import create_app
    from surveyapp.config import terminal_language
    from surveyapp.extensions import db
    from surveyapp.i18n import in_language

    with create_app().app_context(), in_language(terminal_language()):
        try:
            yield
        finally:  # this app is ours alone: leave no pooled connection behind
            db.session.remove()
            db.engine.dispose()
