"""Data-quality rules, exclusion with an audit trail, and estimation dropping excluded responses."""
import pytest

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import Response
from surveyapp.queries import responses_frame
from surveyapp.services import quality
from tests.web.staff_fixtures import OTHER, add_response, make_geography, make_user, make_wave

ITEMS = [f"q{i}" for i in range(1, 7)]


def varied(seed: int) -> dict[str, int]:
    return {item: 1 + (seed + i * 3) % 10 for i, item in enumerate(ITEMS)}


@pytest.fixture
def wave(app):
    make_geography()
    wave = make_wave()
    for n in range(12):
        add_response(wave, varied(n), duration=300 + n, minute=n, age_group=f"g{n}")
    return wave


def kinds(wave_id):
    return sorted((flag.kind, response.duration_seconds)
                  for flag, response in quality.flags_for_wave(wave_id))


def test_speeder_is_below_a_third_of_the_median(wave):
    fast = add_response(wave, varied(50), duration=90, minute=30, age_group="x")
    add_response(wave, varied(51), duration=110, minute=31, age_group="y")  # just above 306/3
    assert quality.detect(wave.id) == 1
    [(flag, response)] = quality.flags_for_wave(wave.id)
    assert (flag.kind, response.id, flag.excluded) == ("speeder", fast.id, False)


def test_too_few_timed_responses_flag_no_speeder(app):
    make_geography()
    wave = make_wave()
    add_response(wave, varied(1), duration=300)
    add_response(wave, varied(2), duration=10, minute=1, age_group="other")
    assert quality.detect(wave.id) == 0


def test_straightliner_needs_one_value_over_enough_items(wave):
    add_response(wave, dict.fromkeys(ITEMS, 8), minute=40, age_group="s1")
    add_response(wave, dict.fromkeys(ITEMS[:4], 8), minute=41, age_group="s2")  # too few items
    quality.detect(wave.id)
    assert kinds(wave.id) == [("straightliner", 300)]


def test_duplicate_keeps_the_earliest_and_flags_the_copy(wave):
    original = add_response(wave, varied(70), minute=50, age_group="dup")
    copy = add_response(wave, varied(70), minute=51, age_group="dup")
    add_response(wave, varied(70), minute=52, age_group="dup", district=OTHER)  # elsewhere
    quality.detect(wave.id)
    [(flag, response)] = quality.flags_for_wave(wave.id, "duplicate")
    assert response.id == copy.id and original.id in flag.detail


def test_detect_twice_adds_nothing_and_keeps_exclusions(wave):
    add_response(wave, dict.fromkeys(ITEMS, 3), minute=40, age_group="s1")
    admin = make_user("admin")
    assert quality.detect(wave.id) == 1
    [(flag, _)] = quality.flags_for_wave(wave.id)
    quality.set_excluded(flag, True, admin, "clicked through")
    assert quality.detect(wave.id) == 0
    assert flag.excluded


def test_exclude_and_reinclude_are_audited_and_drive_estimation(wave):
    liner = add_response(wave, dict.fromkeys(ITEMS, 3), minute=40, age_group="s1")
    admin = make_user("admin", username="chen")
    quality.detect(wave.id)
    flag = db.session.scalar(db.select(QualityFlag))
    quality.set_excluded(flag, True, admin, "same answer everywhere")
    assert liner.id not in set(responses_frame(wave.id)["response_id"])
    assert liner.id in set(responses_frame(wave.id, exclude_flagged=False)["response_id"])
    quality.set_excluded(flag, False, admin, "respondent confirmed by phone")
    assert liner.id in set(responses_frame(wave.id)["response_id"])
    log = [(e.actor_name, e.action, e.target, e.reason)
           for e in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))]
    assert log == [
        ("chen", "response.exclude", f"response:{liner.id}", "[straightliner] same answer everywhere"),
        ("chen", "response.include", f"response:{liner.id}", "[straightliner] respondent confirmed by phone"),
    ]
    assert db.session.get(Response, liner.id) is not None  # nothing deleted


def test_exclusion_needs_a_reason(wave):
    with pytest.raises(quality.QualityError, match="reason"):
        quality.exclude_manually(responses_frame(wave.id)["response_id"][0], wave.id, None, "  ")


def test_manual_exclusion_of_an_unflagged_response(wave):
    target = responses_frame(wave.id)["response_id"][0]
    quality.exclude_manually(target, wave.id, None, "interviewer error")
    assert target not in set(responses_frame(wave.id)["response_id"])
    assert quality.flag_counts(wave.id) == {"manual": {"flagged": 1, "excluded": 1}}
    entry = db.session.scalar(db.select(AuditLog))
    assert (entry.actor_name, entry.reason) == ("cli", "[manual] interviewer error")


def test_manual_exclusion_refuses_a_response_of_another_wave(wave):
    other_wave = make_wave("2025")
    stranger = add_response(other_wave, varied(3))
    with pytest.raises(quality.QualityError, match="response id"):
        quality.exclude_manually(stranger.id, wave.id, None, "why not")
