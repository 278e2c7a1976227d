"""The district report's small-area section, built from the report's analysed inputs.

One model is fitted over every street of the wave (surveyapp.services.small_area) and the
district's streets are published through its disclosure rule; a wave with too few streets for
a model has no section.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from surveyapp.extensions import db
from surveyapp.models.survey import District
from surveyapp.reports.model import Estimate, Language
from surveyapp.reports.small_area import ModelFigure, SmallAreaRow, SmallAreaSection
from surveyapp.reports.wording import label, street_mark
from surveyapp.services.small_area import (
    MIN_DIRECT_N,
    PublishedStreet,
    SmallAreaError,
    StreetModel,
    fit_streets,
    published_streets,
    wave_streets,
)

if TYPE_CHECKING:  # reporting.py imports this module
    from surveyapp.services.reporting import ReportInputs


def street_model(inputs: ReportInputs) -> StreetModel:
    """The wave's street model, with the most recent earlier wave as the previous one."""
    current = inputs.current
    previous = inputs.earlier[0] if inputs.earlier else None
    return fit_streets(current, previous, wave_streets(current))


def district_published(inputs: ReportInputs, district: str, limit: int
                       ) -> tuple[StreetModel, tuple[PublishedStreet, ...]]:
    """The model and the district's streets as publications show them."""
    model = street_model(inputs)
    codes = [s.code for s in db.session.get(District, district).streets]
    return model, published_streets(model, inputs.current, district, codes, limit)


def small_area_section(inputs: ReportInputs, district: str, lang: Language,
                       limit: int) -> SmallAreaSection | None:
    """The section of ``district``'s report, or None when no model can be fitted."""
    try:
        model, rows = district_published(inputs, district, limit)
    except SmallAreaError:
        return None
    names = {s.code: s.name(lang) for s in db.session.get(District, district).streets}
    return SmallAreaSection(tuple(_row(r, names[r.code], lang, limit) for r in rows),
                            _note(model, lang))


def _row(street: PublishedStreet, name: str, lang: Language, limit: int) -> SmallAreaRow:
    direct = Estimate(*street.direct, street.n) if street.direct else None
    return SmallAreaRow(
        street.code, name, street.n, direct,
        None if direct else street_mark(street.n, limit, lang),
        ModelFigure(*street.model) if street.model else None,
        label("model_withheld", lang) if street.model_withheld else None,
        label(f"basis_{street.basis}", lang))


def _note(model: StreetModel, lang: Language) -> str:
    words = [label(f"aux_{name}", lang, wave=model.previous_wave) for name in model.auxiliaries]
    aux = label("aux_and", lang).join(words) if words else "–"
    return label("small_area_note", lang, aux=aux, min_n=MIN_DIRECT_N)
