"""Export one wave's microdata: responses with scores, design variables and final weights."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from flask import current_app

from surveyapp.choices import DEFAULT_TIME_PRECISION
from surveyapp.data import load_responses
from surveyapp.exports.chunks import Progress
from surveyapp.exports.codebook import Codebook, bilingual, build_codebook
from surveyapp.exports.frame import DEFAULT_CHUNK_ROWS, export_frame
from surveyapp.extensions import db
from surveyapp.models.survey import District, Street
from surveyapp.queries import RESPONSE_COLUMNS
from surveyapp.services.catalog import questionnaire_of
from surveyapp.services.disclosure import coarsen_times
from surveyapp.services.estimation import find_waves
from surveyapp.services.sample_design import RESIDENT_FPC


def export_wave(wave: str, fmt: str, path: str | Path, *, questionnaire: str | None = None,
                lang: str = "both",
                include_comments: bool = False, margins: str | None = None,
                districts: Iterable[str] | None = None,
                time_precision: str = DEFAULT_TIME_PRECISION,
                chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None,
                on_total: Callable[[int], None] | None = None) -> tuple[Path, Path, int]:
    """Write the wave as ``fmt`` plus its R snippet; return both paths and the row count.

    Free text is left out unless ``include_comments``; it is then made formula-safe.
    Submission times are cut to the local day unless ``time_precision`` says "hour" or "full"
    (surveyapp.services.disclosure.coarsen_times).
    ``on_total`` hears the row count once the responses are loaded and weighted, ``progress``
    the rows of each chunk written (as ``run_spec`` reports its tables).
    """
    frame = load_responses(wave, questionnaire=questionnaire, margins=margins,
                           districts=districts, include_comments=include_comments)
    frame = coarsen_times(frame, time_precision, current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if on_total is not None:
        on_total(len(frame))
    codebook = wave_codebook(wave, questionnaire, frame, lang)
    data_path, snippet = export_frame(frame, codebook, path, fmt, chunk_rows=chunk_rows,
                                      progress=progress)
    return data_path, snippet, len(frame)


def wave_codebook(wave: str, questionnaire_key: str | None, frame: pd.DataFrame,
                  lang: str) -> Codebook:
    """Labels for the exported columns, from the wave's questionnaire and the geography."""
    (found,) = find_waves([wave], questionnaire_key)
    questionnaire = questionnaire_of(found.questionnaire_version)
    item_ids = [item.id for item in questionnaire.items]
    columns = [*RESPONSE_COLUMNS, *item_ids, *(f"item_{i}" for i in item_ids),
               *(f"dim_{d.id}" for d in questionnaire.dimensions), "index", "overall", "weight"]
    design = frame.attrs["design"]
    street = frame.attrs.get("street_design") or {}
    street_strata = street.get("strata") if street.get("strata") != design["strata"] else None
    # the design's own columns (e.g. district_street, streets_in_district); the infinite
    # second-stage fpc is not data: the R snippet sets it
    columns += [c for c in (design["strata"], street_strata, *_stages(design["psu"]),
                            *_stages(design["fpc"]))
                if c and c not in columns and c != RESIDENT_FPC]
    if "comment" in frame.columns:
        columns.append("comment")
    title = bilingual(questionnaire.title.zh, questionnaire.title.en, lang)
    return build_codebook(questionnaire, columns, places(), lang,
                          title=f"{title} — {wave}", strata=design["strata"],
                          psu=design["psu"] if isinstance(design["psu"], str | None)
                          else tuple(design["psu"]),
                          fpc=_stages(design["fpc"]), lonely_psu=design["lonely_psu"],
                          street_strata=street_strata)


def _stages(columns: str | list[str] | None) -> tuple[str, ...]:
    return () if columns is None else (columns,) if isinstance(columns, str) else tuple(columns)


def places() -> dict[str, dict[str, tuple[str, str]]]:
    """District and street names by code, for value labels."""
    return {
        "district": {d.code: (d.name_zh, d.name_en) for d in db.session.scalars(sa.select(District))},
        "street": {s.code: (s.name_zh, s.name_en) for s in db.session.scalars(sa.select(Street))},
    }
