"""Local wall times <-> stored UTC, for any configured zone (no database needed)."""
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from surveyapp.blueprints.admin_forms import OpenWaveForm
from surveyapp.localtime import LocalTimeError, format_local, from_local, utc_offset, zone_label


@pytest.fixture
def in_zone():
    """Enter a request context of a bare app configured for the given zone."""
    contexts = []

    def enter(zone: str) -> None:
        app = Flask(__name__)
        app.config.update(BABEL_DEFAULT_TIMEZONE=zone, SECRET_KEY="x", WTF_CSRF_ENABLED=False)
        contexts.append(app.test_request_context())
        contexts[-1].push()

    yield enter
    for context in reversed(contexts):
        context.pop()


def test_shanghai_has_one_offset_all_year(in_zone):
    in_zone("Asia/Shanghai")
    assert from_local(datetime(2025, 3, 1)) == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert from_local(datetime(2025, 7, 1)) == datetime(2025, 6, 30, 16, tzinfo=UTC)
    assert format_local(datetime(2025, 2, 28, 16, tzinfo=UTC)) == "2025-03-01 00:00"
    assert format_local(datetime(2025, 2, 28, 16, 0, 5), seconds=True) == "2025-03-01 00:00:05"
    assert zone_label() == "北京时间 Beijing time, UTC+08:00"


def test_a_zone_with_daylight_saving_time(in_zone):
    in_zone("Europe/London")
    assert zone_label() == "Europe/London, UTC+00:00/+01:00"
    assert from_local(datetime(2025, 7, 1)) == datetime(2025, 6, 30, 23, tzinfo=UTC)
    assert format_local(datetime(2025, 6, 30, 23, tzinfo=UTC)) == "2025-07-01 00:00 UTC+01:00"
    # 01:30 happens twice on 26 Oct 2025: the first one (BST) is meant
    assert from_local(datetime(2025, 10, 26, 1, 30)) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    with pytest.raises(LocalTimeError, match="does not exist in Europe/London"):
        from_local(datetime(2025, 3, 30, 1, 30))  # clocks jump from 01:00 to 02:00


def test_utc_offsets_west_and_by_half_hours():
    assert utc_offset(timedelta(hours=-3, minutes=-30)) == "UTC-03:30"
    assert utc_offset(timedelta(hours=5, minutes=30)) == "UTC+05:30"


def test_a_form_filled_from_a_stored_time_shows_local_time(in_zone):
    in_zone("Asia/Shanghai")
    form = OpenWaveForm(data={"closes_at": datetime(2025, 2, 28, 16, tzinfo=UTC)})
    assert 'value="2025-03-01T00:00"' in form.closes_at()
    assert "(北京时间 Beijing time, UTC+08:00)" in form.closes_at.label()
