"""The columnar wave snapshot gives exactly the reader's frame, on SQLite and PostgreSQL: fresh,
after new responses (appended, not rebuilt), after an exclusion and a re-inclusion, after a
margin change, and after changes an append cannot explain (rebuilt); two appends racing leave
one snapshot and no orphan part."""
from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pandas as pd
import pytest

from surveyapp.extensions import db
from surveyapp.locks import exclusive
from surveyapp.models.survey import Wave, utcnow
from surveyapp.queries import responses_frame
from surveyapp.services import quality, wave_snapshots
from surveyapp.services.estimation import load_wave
from surveyapp.services.wave_results import analyse_wave
from surveyapp.services.wave_snapshots import GRACE, wave_frame
from surveyapp.storage import app_store
from tests.web.factories import HONGKOU, make_response, make_responses, make_wave, questionnaire_for
from tests.web.report_data import YANGPU, store_test_margins

VARIANTS = [
    {},
    {"exclude_flagged": False},
    {"include_comments": True},
    {"districts": [YANGPU]},
    {"districts": []},
]


@pytest.fixture
def wave(app) -> Wave:
    wave = make_wave(districts=[HONGKOU, YANGPU])
    responses = make_responses(wave, 24, seed=3)
    for n, response in enumerate(responses[:6]):  # free text, with what CSV must quote
        response.comment = ["", "好", 'say "no",\nthen', None, "a,b", "  "][n]
    db.session.commit()
    return wave


def items(wave: Wave) -> list[str]:
    return [item.id for item in questionnaire_for(wave).items]


def assert_same_as_reader(wave: Wave) -> None:
    for variant in VARIANTS:
        expected = (responses_frame(wave.id, item_ids=items(wave), **variant)
                    .sort_values("response_id", kind="stable").reset_index(drop=True))
        pd.testing.assert_frame_equal(wave_frame(wave, items(wave), **variant), expected)


def manifest(wave: Wave) -> dict:
    return json.loads(app_store().get(f"snapshots/w{wave.id}/manifest.json"))


def test_a_fresh_snapshot_is_the_readers_frame(wave):
    assert_same_as_reader(wave)
    assert manifest(wave)["state"]["count"] == 24
    assert len(manifest(wave)["parts"]) == 1


def test_new_responses_are_appended_as_a_part(wave):
    assert_same_as_reader(wave)
    first = manifest(wave)["parts"]
    make_responses(wave, 3, seed=9)
    assert_same_as_reader(wave)
    parts = manifest(wave)["parts"]
    assert parts[0] == first[0] and len(parts) == 2
    assert manifest(wave)["state"]["count"] == 27


def test_an_append_reads_each_part_once(wave, monkeypatch):
    """The writer, once it holds the lock, finds the manifest it read: the parts it read
    before the lock are the snapshot (a part is never rewritten under its name)."""
    wave_frame(wave, items(wave))
    make_responses(wave, 3, seed=9)
    read = []
    real = wave_snapshots._read_parts
    monkeypatch.setattr(wave_snapshots, "_read_parts",
                        lambda store, keys: read.append(list(keys)) or real(store, keys))

    wave_frame(wave, items(wave))

    assert read == [manifest(wave)["parts"][:1]]
    assert manifest(wave)["state"]["count"] == 27


def test_an_exclusion_and_a_reinclusion_need_no_rebuild(wave):
    assert_same_as_reader(wave)
    parts = manifest(wave)["parts"]
    target = responses_frame(wave.id)["response_id"][5]
    flag = quality.exclude_manually(target, wave.id, None, "test")
    db.session.commit()
    assert target not in set(wave_frame(wave, items(wave))["response_id"])
    assert_same_as_reader(wave)
    quality.set_excluded(flag, False, None, "back")
    db.session.commit()
    assert target in set(wave_frame(wave, items(wave))["response_id"])
    assert_same_as_reader(wave)
    assert manifest(wave)["parts"] == parts


def test_a_margin_change_weights_the_same_frame(wave):
    assert_same_as_reader(wave)
    parts = manifest(wave)["parts"]
    store_test_margins(wave)
    assert_same_as_reader(wave)
    results = analyse_wave(wave, "census-test")
    assert results.weighting.margin_set == "census-test"
    assert len(results.frame) == 24
    assert manifest(wave)["parts"] == parts


def test_a_late_arrival_rebuilds(wave):
    assert_same_as_reader(wave)
    make_response(wave, seed=77, submitted_at=utcnow() - GRACE - timedelta(days=1))
    assert_same_as_reader(wave)
    assert len(manifest(wave)["parts"]) == 1
    assert manifest(wave)["state"]["count"] == 25


def test_a_lost_part_or_a_changed_label_rebuilds(wave):
    assert_same_as_reader(wave)
    app_store().delete(manifest(wave)["parts"][0])
    assert_same_as_reader(wave)
    wave.label = "2024b"
    db.session.commit()
    assert_same_as_reader(wave)
    assert set(wave_frame(wave, items(wave))["wave"]) == {"2024b"}


def test_load_wave_reads_the_snapshot_in_response_id_order(wave):
    make_responses(wave, 2, seed=11)  # two parts, merged in order
    frame = load_wave(wave).frame
    assert frame["response_id"].is_monotonic_increasing
    assert list(frame.index) == list(range(len(frame)))


def test_an_empty_wave_reads_like_the_reader(app):
    wave = make_wave()
    pd.testing.assert_frame_equal(wave_frame(wave, items(wave)),
                                  responses_frame(wave.id, item_ids=items(wave)))


def _parts_in_store(wave: Wave) -> set[str]:
    return set(app_store().keys(f"snapshots/w{wave.id}/part-"))


def test_two_appends_at_once_leave_one_snapshot_and_no_orphan_part(app, wave, monkeypatch):
    """Two threads (as two hosts would) find the snapshot stale at the same time. Without a
    writers' lock both pivot the news from the same manifest and write a part each; the
    manifest written last names one of them, and the other stays in the store for ever."""
    assert_same_as_reader(wave)
    make_responses(wave, 3, seed=9)
    item_ids = items(wave)
    both_pivoting = threading.Barrier(2, timeout=3)  # with the lock, the second never comes
    pivots = []
    pivot = wave_snapshots._from_database

    def meeting_pivot(wave, item_ids, since=None):
        if since is not None:  # the news of an append
            pivots.append(since)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_pivoting.wait()
        return pivot(wave, item_ids, since)

    monkeypatch.setattr(wave_snapshots, "_from_database", meeting_pivot)

    def read(wave_id: int) -> pd.DataFrame:
        with app.app_context():
            return wave_frame(db.session.get(Wave, wave_id), item_ids)

    with ThreadPoolExecutor(2) as pool:
        frames = list(pool.map(read, [wave.id, wave.id]))
    expected = (responses_frame(wave.id, item_ids=item_ids)
                .sort_values("response_id", kind="stable").reset_index(drop=True))
    for frame in frames:
        pd.testing.assert_frame_equal(frame, expected)
    assert _parts_in_store(wave) == set(manifest(wave)["parts"])
    assert len(pivots) == 1  # the second writer found the first one's snapshot current
    assert len(manifest(wave)["parts"]) == 2 and manifest(wave)["state"]["count"] == 27
    assert_same_as_reader(wave)


def test_an_append_removes_the_part_a_dead_writer_left(wave):
    assert_same_as_reader(wave)
    orphan = f"snapshots/w{wave.id}/part-{'0' * 32}.parquet"  # written, then the writer died
    app_store().put(orphan, b"PAR1")
    make_responses(wave, 2, seed=12)
    assert_same_as_reader(wave)
    assert orphan not in _parts_in_store(wave)
    assert _parts_in_store(wave) == set(manifest(wave)["parts"])


def test_a_writer_that_cannot_get_the_lock_reads_the_database_and_writes_nothing(
        wave, monkeypatch):
    assert_same_as_reader(wave)
    before = manifest(wave)
    make_responses(wave, 2, seed=13)
    monkeypatch.setattr(wave_snapshots, "LOCK_WAIT_SECONDS", 0)
    with exclusive(wave_snapshots.SNAPSHOT_LOCKS, wave.id, 0) as held:  # another writer's
        assert held
        assert_same_as_reader(wave)
        assert manifest(wave) == before
    assert_same_as_reader(wave)  # the lock is free again: the snapshot catches up
    assert manifest(wave)["state"]["count"] == 26


def derived(wave: Wave) -> list[str]:
    return app_store().keys(f"snapshots/w{wave.id}/derived-")


def test_a_kept_fingerprint_is_the_fingerprint_and_goes_with_its_parts(wave):
    """Runs on an unchanged snapshot reuse its fingerprint; an exclusion is another frame,
    with its own; new responses (new parts) drop what was kept."""
    from surveyapp.services.estimation import cached_fingerprint, fingerprint

    data = load_wave(wave)
    assert cached_fingerprint([data]) == fingerprint([data])
    assert len(derived(wave)) == 1
    app_store().put(derived(wave)[0], app_store().get(derived(wave)[0])[:72] + b"kept")
    assert cached_fingerprint([load_wave(wave)])[1] == b"kept"  # read back, not recomputed
    target = data.frame["response_id"][5]
    quality.exclude_manually(target, wave.id, None, "test")
    db.session.commit()
    fewer = load_wave(wave)
    assert fewer.content_key != data.content_key
    assert cached_fingerprint([fewer]) == fingerprint([fewer])
    assert len(derived(wave)) == 2
    make_responses(wave, 2, seed=11)
    grown = load_wave(wave)
    assert derived(wave) == []
    assert cached_fingerprint([grown]) == fingerprint([grown])
