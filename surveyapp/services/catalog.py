"""Keep the database's geography and questionnaire versions in step with the data files.

Questionnaire versions are keyed by the sha256 of the file bytes. A version that already has
responses is immutable: if its file changed, syncing refuses and asks for a new version number,
because every stored response must keep pointing at the exact text it answered.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.geography import District as GeographyDistrict
from surveyapp.geography import Street as GeographyStreet
from surveyapp.models.survey import District, QuestionnaireVersion, Response, Street, Wave
from surveyapp.questionnaires import (
    Geography,
    Questionnaire,
    Text,
    load_geography,
    parse_questionnaire,
)


class CatalogError(Exception):
    """A data file conflicts with what the database already holds."""


def sync_catalog(directory: str | Path) -> list[QuestionnaireVersion]:
    """Load every questionnaire and ``geography/*.yaml`` under ``directory`` into the database."""
    root = Path(directory)
    for path in sorted((root / "geography").glob("*.yaml")):
        sync_geography(load_geography(path))
    versions = []
    for path in sorted(root.glob("*.yaml")):
        text = path.read_bytes().decode("utf-8")  # no newline translation: the hash is of the file
        versions.append(sync_questionnaire(parse_questionnaire(text, path.name), text))
    return versions


def sync_geography(geography: Geography) -> None:
    """Insert or rename districts and streets; nothing is deleted (responses refer to them)."""
    districts = {d.code: d for d in db.session.scalars(sa.select(District))}
    streets = {s.code: s for s in db.session.scalars(sa.select(Street))}
    for district in geography.districts:
        _upsert(districts, District, district.code,
                name_zh=district.name.zh, name_en=district.name.en)
        for street in district.streets:
            _upsert(streets, Street, street.code, district_code=district.code,
                    name_zh=street.name.zh, name_en=street.name.en)
    db.session.flush()


def stored_districts() -> tuple[GeographyDistrict, ...]:
    """The database's districts and streets as geography records (for an XLSForm's lists)."""
    districts = db.session.scalars(sa.select(District).order_by(District.code))
    return tuple(GeographyDistrict(d.code, Text(d.name_zh, d.name_en), tuple(
        GeographyStreet(s.code, Text(s.name_zh, s.name_en), d.code) for s in d.streets))
        for d in districts)


def _upsert(existing: dict, model: type, code: str, **values: str) -> None:
    row = existing.get(code)
    if row is None:
        db.session.add(model(code=code, **values))
        return
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def sync_questionnaire(questionnaire: Questionnaire, source_text: str) -> QuestionnaireVersion:
    """Return the stored version of ``questionnaire`` (parsed from ``source_text``).

    A new key+version is inserted; a changed file for a key+version without responses replaces
    the stored text; a changed file for a version with responses raises :class:`CatalogError`.
    """
    stored = db.session.scalar(
        sa.select(QuestionnaireVersion).where(
            QuestionnaireVersion.content_hash == questionnaire.content_hash
        )
    )
    if stored is not None:
        return stored
    stored = db.session.scalar(
        sa.select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == questionnaire.id,
            QuestionnaireVersion.version == str(questionnaire.version),
        )
    )
    if stored is None:
        stored = QuestionnaireVersion(key=questionnaire.id, version=str(questionnaire.version))
        db.session.add(stored)
    elif has_responses(stored):
        raise CatalogError(_(
            "%(source)s: questionnaire '%(id)s' version %(version)s changed after responses "
            "were stored for it; give the edited file a new version number",
            source=questionnaire.source_name, id=questionnaire.id,
            version=questionnaire.version))
    stored.content_hash = questionnaire.content_hash
    stored.source_text = source_text
    stored.title_zh = questionnaire.title.zh
    stored.title_en = questionnaire.title.en
    db.session.flush()
    return stored


def has_responses(version: QuestionnaireVersion) -> bool:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Response.id))
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.questionnaire_version_id == version.id)
        )
        > 0
    )


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The parsed questionnaire a stored version holds (parsed once per content hash)."""
    return _parse_cached(version.content_hash, version.source_text, f"{version.key}.yaml")


@lru_cache(maxsize=64)
def _parse_cached(content_hash: str, text: str, source_name: str) -> Questionnaire:
    return parse_questionnaire(text, source_name, stored=True)
