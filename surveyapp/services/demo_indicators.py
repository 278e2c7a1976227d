"""The demo's indicator set: invented administrative figures for the 2024 citizen wave, so the
composite index page has something to show. The numbers are made up (the file's ``source``
column says so) and must never be read as official statistics."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.indicators import IndicatorSet
from surveyapp.models.survey import QuestionnaireVersion, Wave
from surveyapp.services.indicators import IndicatorUploadError, import_indicators

DEMO_INDICATOR_SET = "demo-indicators-2024"
DEMO_FILE = Path("indicators") / "demo-2024.csv"  # under the questionnaire folder
DEMO_DESCRIPTION = "演示数据，数字为虚构 / demo data: invented numbers, not official statistics"


def ensure_demo_indicators(questionnaire_dir: str | Path, wave_label: str = "2024"
                           ) -> tuple[IndicatorSet | None, bool]:
    """The demo set, loaded (flushed) for the citizen wave ``wave_label`` if it is missing.

    (None, False) when the demo has no such wave or the folder has no demo file.
    """
    stored = db.session.scalar(sa.select(IndicatorSet).where(
        IndicatorSet.name == DEMO_INDICATOR_SET))
    if stored is not None:
        return stored, False
    wave = db.session.scalar(sa.select(Wave).join(QuestionnaireVersion).where(
        Wave.label == wave_label, QuestionnaireVersion.key == "citizen"))
    path = Path(questionnaire_dir) / DEMO_FILE
    if wave is None or not path.is_file():
        return None, False
    try:
        return import_indicators(DEMO_INDICATOR_SET, wave, wave_label,
                                 path.read_text(encoding="utf-8"), DEMO_DESCRIPTION,
                                 is_demo=True), True
    except IndicatorUploadError as error:
        raise ValueError(f"{path}: {error}") from error
