"""The demo's sampling plan: a scheduled citizen wave "2025" (by invitation) planned from the
shipped INVENTED street populations, 2400 valid responses (as Hongkou's 8-street measurement)
allocated by square root with 4 streets drawn per district by PPS, SDs from the 2024 wave."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from surveyapp.localtime import from_local, to_local
from surveyapp.models.plans import SamplePlan
from surveyapp.models.survey import Wave
from surveyapp.services.demo import DemoError, existing_wave
from surveyapp.services.plans import PlanRequest, make_plan, plan_of
from surveyapp.services.waves import create_wave, latest_version

DEMO_PLAN_WAVE = "2025"
DEMO_POPULATIONS = "geography/shanghai-populations-INVENTED.csv"
DEMO_REQUEST = PlanRequest(total=2400, method="sqrt", min_per_street=20, streets_per_district=4,
                           selection="pps", seed=2025)


def ensure_demo_plan(questionnaire_dir: str | Path, district_codes: list[str],
                     now: datetime) -> tuple[Wave, SamplePlan, bool]:
    """The demo plan wave and its plan, made (flushed) unless an earlier run made them."""
    wave = existing_wave("citizen", DEMO_PLAN_WAVE)
    if wave is not None and plan_of(wave) is not None:
        return wave, plan_of(wave), False
    path = Path(questionnaire_dir) / DEMO_POPULATIONS
    if not path.exists():
        raise DemoError(f"no demo populations: expected {path}")
    if wave is None:
        version = latest_version("citizen")
        if version is None:
            raise DemoError("questionnaire 'citizen' is not loaded")
        opens = from_local(datetime.combine(to_local(now + timedelta(days=30)).date(),
                                            datetime.min.time()))
        wave = create_wave(DEMO_PLAN_WAVE, version, district_codes, opens,
                           opens + timedelta(days=90), "invitation")
    plan = make_plan(wave, path.read_bytes(), path.name, DEMO_REQUEST, "demo")
    return wave, plan, True
