"""Services without a request: atomic storage, waves, the questionnaire catalog, responses_frame."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import (
    Answer,
    District,
    FormToken,
    QuestionnaireVersion,
    Street,
    Wave,
    utcnow,
)
from surveyapp.queries import RESPONSE_COLUMNS, responses_frame
from surveyapp.questionnaires import load_questionnaire, parse_questionnaire
from surveyapp.services.catalog import CatalogError, sync_catalog, sync_questionnaire
from surveyapp.services.submission import Submission, SubmissionRejected, submit_response
from surveyapp.services.waves import WaveError, create_wave, open_waves
from tests.web.factories import make_response, make_wave, stored_counts, sync_shipped


def submission(**changes) -> Submission:
    values = {"district": "310109", "street": "310109001", "answers": {"p_food": 8},
              "language": "zh", "channel": "web", "token": "t-1"}
    return Submission(**{**values, **changes})


def test_a_failing_answer_rolls_back_the_whole_response(app):
    wave = make_wave()
    broken = submission(answers={"p_food": 8, "p_goods": None})  # NOT NULL violated

    with pytest.raises(sa.exc.IntegrityError):
        submit_response(wave, broken)
    db.session.rollback()

    assert stored_counts() == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FormToken)) == 0


def test_a_form_token_is_spent_once(app):
    wave = make_wave()
    submit_response(wave, submission())
    db.session.commit()

    with pytest.raises(SubmissionRejected) as rejected:
        submit_response(wave, submission(answers={"p_food": 2}))
    db.session.rollback()

    assert rejected.value.reason == "duplicate"
    assert stored_counts() == (1, 1)


def test_responses_are_accepted_only_while_the_wave_is_open(app):
    wave = make_wave(open=False)
    with pytest.raises(SubmissionRejected) as rejected:
        submit_response(wave, submission())
    assert rejected.value.reason == "closed"
    assert wave.status() == "closed" and not wave.is_open()
    assert wave.is_open(wave.opens_at) and not wave.is_open(wave.closes_at)


def test_open_waves_lists_only_waves_open_now(app):
    now = utcnow()
    current = make_wave("2024")
    make_wave("2023", open=False)
    make_wave("2025", opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=1))
    assert [w.id for w in open_waves()] == [current.id]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"label": " "}, "label: must not be empty"),
        ({"mode": "paper"}, "mode: expected one of open, invitation"),
        ({"district_codes": []}, "districts: a wave must cover at least one district"),
        ({"district_codes": ["310109", "999999"]}, "districts: unknown district code"),
        ({"closes_at": utcnow() - timedelta(days=90)}, "closes_at: must be later than opens_at"),
    ],
)
def test_create_wave_names_the_bad_field(app, changes, message):
    version = sync_shipped()["citizen"]
    arguments = {"label": "2024", "version": version, "district_codes": ["310109"],
                 "opens_at": utcnow() - timedelta(days=1), "closes_at": utcnow() + timedelta(days=1)}
    with pytest.raises(WaveError, match=message):
        create_wave(**{**arguments, **changes})


def test_catalog_stores_the_hash_of_the_exact_file_bytes(app, tmp_path):
    """A file saved with Windows line endings keeps the hash `questionnaires check` shows."""
    shipped = Path(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    (tmp_path / "geography").mkdir()
    geography = (shipped / "geography" / "shanghai.yaml").read_bytes()
    (tmp_path / "geography" / "shanghai.yaml").write_bytes(geography)
    crlf = (shipped / "citizen.yaml").read_bytes().replace(b"\n", b"\r\n")
    (tmp_path / "citizen.yaml").write_bytes(crlf)

    [version] = sync_catalog(tmp_path)

    assert version.content_hash == hashlib.sha256(crlf).hexdigest()
    assert version.content_hash == load_questionnaire(tmp_path / "citizen.yaml").content_hash


def test_catalog_loads_geography_and_all_questionnaires(app):
    versions = sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    assert {v.key for v in versions} >= {"citizen"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(District)) == 16
    assert db.session.get(Street, "310109001").district_code == "310109"
    again = sync_catalog(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    assert [v.id for v in again] == [v.id for v in versions]


def shipped_citizen(app) -> str:
    path = f"{app.config['SURVEYAPP_QUESTIONNAIRE_DIR']}/citizen.yaml"
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def edited_citizen(app) -> str:
    edited = shipped_citizen(app).replace("约需5分钟", "约需6分钟")
    assert edited != shipped_citizen(app)
    return edited


def test_a_version_without_responses_may_still_be_corrected(app):
    edited = edited_citizen(app)
    stored = sync_shipped()["citizen"]

    updated = sync_questionnaire(parse_questionnaire(edited, "citizen.yaml"), edited)

    assert updated.id == stored.id and "约需6分钟" in updated.source_text


def test_a_version_with_responses_is_immutable(app):
    edited = edited_citizen(app)
    make_response(make_wave())

    with pytest.raises(CatalogError, match="已有答卷，内容不能再改"):  # the default language
        sync_questionnaire(parse_questionnaire(edited, "citizen.yaml"), edited)
    stored = db.session.scalar(sa.select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == "citizen"))
    assert stored.source_text == shipped_citizen(app)


def test_a_new_version_number_makes_a_new_version(app):
    edited = edited_citizen(app)
    make_response(make_wave())
    renumbered = edited.replace('version: "2024.1"', 'version: "2024.2"')

    new = sync_questionnaire(parse_questionnaire(renumbered, "citizen.yaml"), renumbered)

    assert new.version == "2024.2"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionnaireVersion)) >= 2


def test_responses_frame_has_one_row_per_response_and_raw_item_values(app):
    wave = make_wave(districts=["310109", "310110"])
    make_response(wave, district="310109", answers={"p_food": 7, "p_goods": 99}, sex="female")
    make_response(wave, district="310110", answers={"p_food": 3}, seed=2)

    frame = responses_frame(wave.id)

    assert list(frame.columns[: len(RESPONSE_COLUMNS)]) == list(RESPONSE_COLUMNS)
    assert list(frame.columns[len(RESPONSE_COLUMNS):]) == ["p_food", "p_goods"]
    by_district = frame.set_index("district")
    assert by_district.loc["310109", "p_goods"] == 99
    assert np.isnan(by_district.loc["310110", "p_goods"])
    assert by_district.loc["310109", "sex"] == "female"
    assert (frame["wave"] == "2024").all() and str(frame["submitted_at"].dt.tz) == "UTC"
    assert frame["response_id"].is_monotonic_increasing
    only = responses_frame(wave.id, districts=["310110"], item_ids=["p_goods", "p_food"])
    assert list(only["district"]) == ["310110"]
    assert list(only.columns[-2:]) == ["p_goods", "p_food"]


def test_answers_carry_the_wave_of_their_response(app):
    """answer.wave_id (read by responses_frame without a join) comes from the response."""
    first, second = make_wave(), make_wave(label="2025")
    make_response(first, answers={"p_food": 7})
    make_response(second, answers={"p_food": 3, "p_goods": 4})

    rows = db.session.execute(sa.select(Answer.wave_id, sa.func.count()).group_by(Answer.wave_id))

    assert dict(rows.all()) == {first.id: 1, second.id: 2}
    assert list(responses_frame(second.id)["p_food"]) == [3]


def test_responses_frame_keeps_free_text_and_tells_empty_from_missing(app):
    """PostgreSQL reads through COPY (CSV): commas, quotes, newlines, '' and NULL must survive."""
    wave = make_wave()
    texts = ['a, "quoted"\nsecond line', "=1+1", "", None]
    stored = {}
    for seed, text in enumerate(texts):
        response = make_response(wave, answers={"p_food": 5}, seed=seed)
        response.comment = text
        response.residence_years = None if text is None else "10+"
        stored[response.id] = text
    db.session.commit()

    frame = responses_frame(wave.id, include_comments=True).set_index("response_id")

    for response_id, text in stored.items():
        got = frame.loc[response_id, "comment"]
        if text is None:
            assert pd.isna(got) and pd.isna(frame.loc[response_id, "residence_years"])
        else:
            assert got == text
            assert frame.loc[response_id, "residence_years"] == "10+"


def test_responses_frame_of_an_empty_wave_has_the_columns(app):
    wave = make_wave()
    frame = responses_frame(wave.id, item_ids=["p_food"])
    assert len(frame) == 0
    assert list(frame.columns) == [*RESPONSE_COLUMNS, "p_food"]


def test_the_streaming_pivot_is_chosen_only_once_vacuum_has_marked_answers_visible(app, backend):
    """Streaming a wave's answers from the covering index pays only while the index alone
    answers: after VACUUM, not straight after the rows were written (where hashing is faster)."""
    if backend != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    from surveyapp.queries import PIVOT_SETTINGS, STREAMING_PIVOT_SETTINGS, _pivot_settings

    wave = make_wave()
    for seed in range(40):
        make_response(wave, seed=seed)
    db.session.commit()
    db.session.remove()  # an open snapshot would keep VACUUM from marking the rows visible

    def chosen_after(statement: str) -> dict[str, str]:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(statement)
            with conn.connection.dbapi_connection.cursor() as cursor:
                return _pivot_settings(cursor)

    with db.engine.begin() as conn:  # no autovacuum between the steps below
        conn.exec_driver_sql("ALTER TABLE answer SET (autovacuum_enabled = false)")
    try:  # a rewritten table has an empty visibility map, as after a bulk load
        assert chosen_after("VACUUM FULL answer") == PIVOT_SETTINGS
        assert chosen_after("VACUUM answer") == STREAMING_PIVOT_SETTINGS
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE answer RESET (autovacuum_enabled)")


def test_a_value_too_long_for_its_column_is_refused_not_cut(app, backend):
    """The one-statement INSERT casts its parameters to unsized types, so the column's own
    length check still refuses a longer value (SQLite keeps no lengths)."""
    if backend != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    wave = make_wave()

    with pytest.raises(sa.exc.DataError):
        submit_response(wave, submission(sex="x" * 41))
    db.session.rollback()

    assert stored_counts() == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FormToken)) == 0


def test_a_response_to_a_wave_closed_as_stored_stores_nothing(app):
    """The wave in memory says open; the stored one closed a moment ago: nothing is stored."""
    wave = make_wave()
    db.session.execute(Wave.__table__.update().where(Wave.__table__.c.id == wave.id)
                       .values(closes_at=utcnow() - timedelta(seconds=1)))  # Core: wave untouched
    assert wave.is_open()

    with pytest.raises(SubmissionRejected) as rejected:
        submit_response(wave, submission())
    db.session.rollback()

    assert rejected.value.reason == "closed"
    assert stored_counts() == (0, 0)


def other_connection_counts() -> int:
    """Responses as another connection sees them: what is committed."""
    with db.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM response"))


def test_a_submit_outside_a_transaction_is_stored_by_its_one_statement(app, backend):
    """No transaction under way: the statement commits itself (no BEGIN and COMMIT round
    trips), so the response is stored when submit_response returns."""
    if backend != "postgresql":
        pytest.skip("one statement on PostgreSQL only")
    wave = make_wave()
    assert wave.questionnaire_version.content_hash  # loaded, then out of the session
    db.session.expunge_all()
    db.session.rollback()
    assert not db.session().in_transaction()

    submit_response(wave, submission())

    assert other_connection_counts() == 1


def test_a_submit_inside_a_transaction_joins_it(app, backend):
    """Work under way in the session: the response is stored with it, at its commit."""
    if backend != "postgresql":
        pytest.skip("one statement on PostgreSQL only")
    wave = make_wave()
    db.session.execute(sa.text("SELECT 1"))

    submit_response(wave, submission())
    assert other_connection_counts() == 0
    db.session.commit()

    assert other_connection_counts() == 1
