"""Reports are cached per wave, district and data version, and built from the command line."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from surveyapp.cli import main
from surveyapp.cli.report import FORMATS, report
from surveyapp.extensions import db
from surveyapp.models.quality import QualityFlag
from surveyapp.services import report_cache
from surveyapp.services.report_cache import BUILDERS, data_version, report_document
from tests.reports.sample import csv_tables
from surveyapp.storage import app_store
from tests.web.factories import HONGKOU, make_response
from tests.web.report_data import SUPPRESS_BELOW, make_report_waves, store_test_margins


@pytest.fixture
def waves(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = SUPPRESS_BELOW
    yield make_report_waves()
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


def _cached_files(app, wave) -> list[str]:
    """Stored versions of this wave's Hongkou English CSV report (keys of the shared store).

    Only that one report: the store is shared by the test session, and SQLite may give
    another test's wave the same id.
    """
    return app_store().keys(f"reports/w{wave.id}/{HONGKOU}-en-auto/csv-")


def _responses(document: bytes) -> int:
    """The method section's count of valid responses, read from the CSV edition (a zip)."""
    method = csv_tables(document)["method"]
    return int(next(row["Value"] for row in method if row["Figure"] == "Valid responses"))


@pytest.fixture
def builds(monkeypatch):
    """Counts how often a report is actually built (not served from the cache)."""
    calls = []
    original = report_cache.cached_report

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(report_cache, "cached_report", counting)
    return calls


def test_cached_until_the_data_change(app, waves, builds):
    first = report_document(waves.current, HONGKOU, "en", "csv")
    again = report_document(waves.current, HONGKOU, "en", "csv")
    assert again == first and len(builds) == 1
    assert len(_cached_files(app, waves.current)) == 1

    make_response(waves.current, district=HONGKOU, seed=999)
    rebuilt = report_document(waves.current, HONGKOU, "en", "csv")
    assert len(builds) == 2 and rebuilt != first
    assert len(_cached_files(app, waves.current)) == 1  # the stale version was removed


def test_excluding_a_response_rebuilds_without_it(waves, builds):
    before = _responses(report_document(waves.current, HONGKOU, "en", "csv"))
    version = data_version(waves.current)
    target = make_response(waves.current, district=HONGKOU, seed=4242)
    db.session.add(QualityFlag(response_id=target.id, kind="manual", excluded=True))
    db.session.commit()

    assert data_version(waves.current) != version
    after = _responses(report_document(waves.current, HONGKOU, "en", "csv"))
    assert after == before and len(builds) == 2  # the new response is excluded again

    flag = db.session.scalars(db.select(QualityFlag)).one()
    flag.excluded = False
    db.session.commit()
    assert _responses(report_document(waves.current, HONGKOU, "en", "csv")) == before + 1


def test_uploading_margins_changes_the_version(waves):
    version = data_version(waves.current)
    store_test_margins(waves.current)
    assert data_version(waves.current) != version


def test_cli_writes_each_format(runner, waves, tmp_path):
    for fmt in FORMATS:
        output = tmp_path / f"hongkou.{fmt}"
        result = runner.invoke(report, ["--wave", "2024", "--district", HONGKOU,
                                     "--format", fmt, "--lang", "en", "--output", str(output)])
        assert result.exit_code == 0, result.output
        assert output.stat().st_size > 1000
    assert set(FORMATS) == set(BUILDERS) and main.commands["report"] is report
    assert (tmp_path / "hongkou.pdf").read_bytes().startswith(b"%PDF")


def test_cli_city_report(runner, waves, tmp_path):
    output = tmp_path / "city.xlsx"
    result = runner.invoke(report, ["--wave", "2024", "--city", "--format", "xlsx",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "各区排名" in load_workbook(output).sheetnames


@pytest.mark.parametrize("arguments", [["--wave", "2024"],
                                       ["--wave", "2024", "--city", "--district", HONGKOU]])
def test_cli_wants_a_district_or_the_city(runner, english_terminal, tmp_path, arguments):
    result = runner.invoke(report, [*arguments, "--output", str(tmp_path / "out.pdf")])
    assert result.exit_code == 2 and "give either --district CODE or --city" in result.output


def test_cli_errors_name_the_field(runner, english_terminal, waves, tmp_path):
    output = tmp_path / "out.pdf"
    for arguments, message in [
        (["--wave", "1999", "--city"],
         "no wave '1999'; known waves: 2023 (citizen), 2024 (citizen)"),
        (["--wave", "2024", "--district", "310115"], "district: wave 2024 does not cover 310115"),
        (["--wave", "2024", "--city", "--margins", "nope"], "unknown margin set 'nope'"),
        (["--wave", "2024", "--city", "--questionnaire", "government"], "no wave '2024'"),
    ]:
        result = runner.invoke(report, [*arguments, "--lang", "en", "--output", str(output)])
        assert result.exit_code == 1 and message in result.output, result.output
    assert not output.exists()


def test_cli_errors_follow_the_terminal_not_the_report_language(runner, plain_terminal, waves,
                                                                tmp_path):
    result = runner.invoke(report, ["--wave", "1999", "--city", "--lang", "en", "--output",
                                    str(tmp_path / "out.pdf")])
    assert result.exit_code == 1 and "测评批次：没有1999" in result.output, result.output

