"""`surveyapp demo`: two citizen waves and a sector wave over every district, skewed
demographics, consistent demo margins, and nothing duplicated when run twice."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from analysis.design import SurveyDesign
from analysis.scoring import score
from surveyapp.cli.demo import demo
from surveyapp.extensions import db
from surveyapp.models.margins import MarginRow, MarginSet
from surveyapp.models.survey import District, QuestionnaireVersion, Response, Wave, utcnow
from surveyapp.queries import responses_frame
from surveyapp.services.catalog import questionnaire_of, sync_catalog
from surveyapp.services.demo import (
    DEMO_MARGIN_SET,
    DemoWorld,
    build_demo_wave,
    demo_districts,
    demo_waves,
    ensure_demo_margins,
)
from surveyapp.services.margins import rake_margins
from surveyapp.services.wave_results import analyse_wave

PER_DISTRICT = 6
HONGKOU, PUDONG, CHONGMING = "310109", "310115", "310151"


def run_demo(runner, seed: int = 7):
    result = runner.invoke(demo, ["--no-serve", "--per-district", str(PER_DISTRICT),
                                  "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    return result


def counts_by_wave_and_district() -> dict[tuple[str, str, str], int]:
    rows = db.session.execute(
        sa.select(QuestionnaireVersion.key, Wave.label, Response.district_code,
                  sa.func.count(Response.id))
        .join(Wave, Wave.id == Response.wave_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Wave.questionnaire_version_id)
        .group_by(QuestionnaireVersion.key, Wave.label, Response.district_code)
    ).all()
    return {(key, label, district): n for key, label, district, n in rows}


def wave_frame(key: str, label: str) -> tuple[pd.DataFrame, object]:
    """A demo wave's responses with their 0-100 scores, and its questionnaire."""
    wave = db.session.scalar(
        sa.select(Wave).join(QuestionnaireVersion)
        .where(QuestionnaireVersion.key == key, Wave.label == label)
    )
    questionnaire = questionnaire_of(wave.questionnaire_version)
    frame = responses_frame(wave.id)
    return frame.join(score(frame, questionnaire.to_scoring_spec())), questionnaire


def test_demo_fills_two_citizen_waves_and_a_sector_wave_in_every_district(runner):
    result = run_demo(runner)

    districts = db.session.scalars(sa.select(District.code)).all()
    assert len(districts) == 16
    counts = counts_by_wave_and_district()
    for district in districts:
        assert counts[("citizen", "2023", district)] == PER_DISTRICT
        assert counts[("citizen", "2024", district)] == PER_DISTRICT
        assert counts[("public_service", "2024", district)] == round(PER_DISTRICT * 0.3)
    assert "created" in result.output
    channels = set(db.session.scalars(sa.select(Response.channel).distinct()))
    assert channels == {"demo"}


def test_running_the_demo_twice_keeps_the_data_and_duplicates_nothing(runner):
    run_demo(runner)
    before = counts_by_wave_and_district()
    margin_rows = db.session.scalar(sa.select(sa.func.count(MarginRow.id)))

    again = run_demo(runner, seed=8)

    assert counts_by_wave_and_district() == before
    assert db.session.scalar(sa.select(sa.func.count(MarginRow.id))) == margin_rows
    assert db.session.scalar(sa.select(sa.func.count(Wave.id))) == 4  # 3 + the plan's 2025
    assert "kept unchanged" in again.output and "created" not in again.output


def test_demo_shows_a_sampling_plan_for_a_scheduled_wave(runner):
    from surveyapp.services.plans import plan_of

    result = run_demo(runner)
    assert "sampling plan 2400 responses, sqrt, 64 of 215 streets drawn (pps" in result.output
    wave = db.session.scalar(sa.select(Wave).where(Wave.label == "2025"))
    plan = plan_of(wave)
    assert wave.status() == "scheduled" and wave.sample_design == "street_psu"
    assert sum(r.target for r in plan.streets) == 2400 and plan.sd_wave_label == "2024"


def test_demo_pins_the_citizen_waves_to_the_demo_margins(runner):
    """So the admin page shows pinned waves next to an automatic one, and a report of 2023
    stays weighted to the demo margins whatever is uploaded later."""
    result = runner.invoke(demo, ["--no-serve", "--per-district", "80", "--seed", "7"])
    assert result.exit_code == 0, result.output

    pins = {(w.questionnaire_version.key, w.label): w.margin_set
            for w in db.session.scalars(sa.select(Wave))}
    assert pins[("citizen", "2023")].name == DEMO_MARGIN_SET
    assert pins[("citizen", "2024")].name == DEMO_MARGIN_SET
    assert pins[("public_service", "2024")] is None
    assert f"pinned to '{DEMO_MARGIN_SET}'" in result.output
    wave = next(w for w in db.session.scalars(sa.select(Wave))
                if (w.questionnaire_version.key, w.label) == ("citizen", "2023"))
    assert analyse_wave(wave).weighting.margin_set == DEMO_MARGIN_SET
    assert "pinned" not in run_demo(runner).output  # kept, not pinned again


def test_a_demo_too_small_to_rake_leaves_its_waves_automatic(runner):
    assert "pinned" not in run_demo(runner).output  # 6 per district: empty margin cells
    assert all(w.margin_set_id is None for w in db.session.scalars(sa.select(Wave)))


def test_answers_stay_on_their_scales_and_scores_are_mostly_75_to_95(runner):
    run_demo(runner)

    for key, label in (("citizen", "2023"), ("citizen", "2024"), ("public_service", "2024")):
        frame, questionnaire = wave_frame(key, label)
        for item in questionnaire.items:
            scale = questionnaire.scale_of(item.id)
            allowed = set(scale.values) | ({scale.dont_know.value} if scale.dont_know else set())
            assert set(frame[item.id].dropna().astype(int)) <= allowed, item.id
        assert 75 <= frame["index"].mean() <= 95
        assert frame["index"].between(0, 100).all()
        assert frame["index"].quantile(0.25) > 60


def test_reverse_coded_items_agree_with_the_other_items(app):
    """A satisfied resident *disagrees* that fakes are common: low raw value, high score."""
    sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    districts = demo_districts()
    spec = demo_waves(utcnow())[1]
    build_demo_wave(spec, DemoWorld(3, [d.code for d in districts]), districts, 40,
                    np.random.default_rng(3))
    frame, questionnaire = wave_frame("citizen", "2024")
    reverse = [item.id for item in questionnaire.items if item.reverse]
    assert reverse
    for item_id in reverse:
        raw = frame[item_id].where(frame[item_id] != questionnaire.scale_of(item_id).dont_know.value)
        assert raw.mean() < 4  # on a 1-10 agreement scale
        assert frame[f"item_{item_id}"].corr(frame["index"]) > 0.3


def test_demo_demographics_over_represent_women_and_older_people(runner):
    run_demo(runner)
    margins = rake_margins(db.session.scalar(sa.select(MarginSet)))
    sex, age = margins[("district", "sex")], margins[("district", "age_group")]
    population = sum(sex.values())
    female_population = sum(n for (_, value), n in sex.items() if value == "female") / population
    older_population = sum(n for (_, value), n in age.items() if value == "60+") / population

    sample = pd.DataFrame(db.session.execute(sa.select(Response.sex, Response.age_group)).all())

    assert (sample["sex"] == "female").mean() > female_population + 0.05
    assert (sample["age_group"] == "60+").mean() > older_population + 0.05


def test_demo_margins_are_consistent_marked_as_demo_and_follow_district_sizes(app):
    sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    margin_set, created = ensure_demo_margins(demo_districts())

    assert created and margin_set.name == DEMO_MARGIN_SET and margin_set.is_demo
    assert "not official" in margin_set.description.lower()
    margins = rake_margins(margin_set)
    totals = {
        variable: pd.Series(counts).groupby(level=0).sum()
        for (_, variable), counts in margins.items()
    }
    assert set(totals) == {"sex", "age_group"}
    pd.testing.assert_series_equal(totals["sex"], totals["age_group"], check_names=False)
    sizes = totals["sex"]
    assert len(sizes) == 16
    assert sizes[PUDONG] > 5 * sizes[HONGKOU] > 5 * sizes[CHONGMING]
    assert ensure_demo_margins(demo_districts())[1] is False


def test_weighting_to_the_demo_margins_lowers_the_too_old_samples_score(app):
    """Older respondents are more satisfied and over-represented: raking must pull the mean down."""
    sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    districts = demo_districts()
    spec = demo_waves(utcnow())[1]
    build_demo_wave(spec, DemoWorld(5, [d.code for d in districts]), districts, 120,
                    np.random.default_rng(5))
    margin_set, _ = ensure_demo_margins(districts)
    frame, _ = wave_frame("citizen", "2024")
    frame = frame.dropna(subset=["index"])

    unweighted = SurveyDesign(frame).mean("index").estimate
    raked = SurveyDesign(frame).rake(rake_margins(margin_set), epsilon=1e-8, max_iter=50)
    assert raked.rake_info.converged
    raked_mean = raked.mean("index").estimate

    assert raked_mean < unweighted - 0.2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_demo_world_improves_on_average_but_some_districts_fall(seed):
    codes = [f"31{n:04d}" for n in range(16)]
    world = DemoWorld(seed, codes)
    changes = np.array([world.level(c, "service", 1) - world.level(c, "service", 0)
                        for c in codes])

    assert changes.mean() > 0.5
    assert (changes < 0).sum() >= 2


def test_demo_creates_staff_accounts_whose_printed_passwords_sign_in(runner):
    import re

    from surveyapp.services.accounts import authenticate

    first = run_demo(runner)
    printed = dict(re.findall(r"(demo-[a-z]+)\s+\S+.*?password (\S+)", first.output))
    assert set(printed) == {"demo-admin", "demo-analyst", "demo-hongkou"}
    hongkou = authenticate("demo-hongkou", printed["demo-hongkou"], client="test")
    assert hongkou is not None and hongkou.role == "bureau"
    assert [d.code for d in hongkou.districts] == [HONGKOU]

    second = run_demo(runner)
    assert "password unchanged" in second.output
    assert authenticate("demo-admin", printed["demo-admin"], client="test") is not None
