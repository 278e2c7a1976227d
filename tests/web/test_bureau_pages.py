"""Bureau pages on real reports: headline, charts and downloads for the user's own district only."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.survey import Response
from surveyapp.services import quality
from surveyapp.services.report_cache import cached_report
from tests.web.factories import HONGKOU
from tests.web.report_data import SUPPRESS_BELOW, YANGPU, make_report_waves
from tests.web.staff_fixtures import login_as, make_user, staff_client


@pytest.fixture
def waves(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = SUPPRESS_BELOW
    yield make_report_waves()
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


@pytest.fixture
def hongkou(app, waves):
    user = make_user("bureau", [HONGKOU], username="hongkou")
    db.session.commit()
    client = staff_client(app)
    login_as(client, user)
    return client


def test_index_lists_the_districts_waves(hongkou, waves):
    page = hongkou.get("/bureau/").get_data(as_text=True)
    assert f"/bureau/{waves.current.id}/{HONGKOU}" in page
    assert f"/bureau/{waves.earlier.id}/{HONGKOU}" in page
    assert YANGPU not in page and "/city" not in page


def test_district_page_shows_the_headline_charts_and_downloads(hongkou, waves):
    report = cached_report(waves.current, HONGKOU, "zh")  # the page's own, from the cache
    page = hongkou.get(f"/bureau/{waves.current.id}/{HONGKOU}").get_data(as_text=True)
    assert report.area in page
    assert f"{report.headline.estimate.value:.2f}" in page
    assert "较2023变化" in page  # the change against the earlier wave, in words
    for fmt in ("pdf", "xlsx", "csv"):
        assert f"/bureau/{waves.current.id}/{HONGKOU}/report.{fmt}?lang=zh" in page
    charts = re.findall(r'<img[^>]*src="([^"]+\.png[^"]*)"', page)
    assert charts and len(charts) == len(report.charts)
    image = hongkou.get(charts[0].replace("&amp;", "&"))
    assert image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")


def test_english_page_and_downloads(hongkou, waves):
    page = hongkou.get(f"/bureau/{waves.current.id}/{HONGKOU}?lang=en").get_data(as_text=True)
    assert "Hongkou" in page and "Satisfaction index" in page
    for fmt, media, name in (
            ("pdf", "application/pdf", "en.pdf"), ("csv", "application/zip", "en-csv.zip"),
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "en.xlsx")):
        response = hongkou.get(f"/bureau/{waves.current.id}/{HONGKOU}/report.{fmt}?lang=en")
        assert response.status_code == 200 and response.headers["Content-Type"] == media
        disposition = response.headers["Content-Disposition"]
        assert f'filename="report-2024-{HONGKOU}-{name}"' in disposition
    assert response.data.startswith(b"PK")  # the workbook is a zip
    pdf = hongkou.get(f"/bureau/{waves.current.id}/{HONGKOU}/report.pdf?lang=zh")
    assert pdf.data.startswith(b"%PDF")


def test_another_districts_report_is_404_by_every_route(hongkou, waves):
    wave = waves.current.id
    for path in (f"/bureau/{wave}/{YANGPU}", f"/bureau/{wave}/{YANGPU}/report.pdf",
                 f"/bureau/{wave}/{YANGPU}/charts/trend.png"):
        assert hongkou.get(path).status_code == 404, path
    assert hongkou.get(f"/bureau/{wave}/city").status_code == 403


def test_an_exclusion_changes_the_page(app, hongkou, waves, monkeypatch):
    """Reports are cached per data version: excluding a response rebuilds them (the wave is
    open, so once its page is older than the refresh interval, here at once)."""
    monkeypatch.setitem(app.config, "SURVEYAPP_REPORT_REFRESH_MINUTES", 0)
    url = f"/bureau/{waves.current.id}/{HONGKOU}?lang=en"
    before = int(re.search(r"n = (\d+)", hongkou.get(url).get_data(as_text=True)).group(1))
    response_id = db.session.scalar(sa.select(Response.id).where(
        Response.wave_id == waves.current.id, Response.district_code == HONGKOU).limit(1))
    quality.exclude_manually(response_id, waves.current.id, None, "test exclusion")
    db.session.commit()
    assert f"n = {before - 1}" in hongkou.get(url).get_data(as_text=True)


def test_analyst_sees_every_district_and_the_city(app, waves):
    client = staff_client(app)
    login_as(client, make_user("analyst"))
    assert client.get(f"/bureau/{waves.current.id}/{YANGPU}").status_code == 200
    page = client.get(f"/bureau/{waves.current.id}/city").get_data(as_text=True)
    assert "Hongkou" in page or "虹口" in page
    assert client.get(f"/bureau/{waves.current.id}/city/report.csv").status_code == 200


def test_a_district_without_responses_says_so(app, waves):
    client = staff_client(app)
    login_as(client, make_user("admin"))
    db.session.execute(sa.delete(Response).where(Response.district_code == YANGPU))
    db.session.commit()
    response = client.get(f"/bureau/{waves.current.id}/{YANGPU}")
    assert response.status_code == 404 and "No report yet" in response.get_data(as_text=True)


def test_the_headline_verdict_is_tagged_and_coloured_by_significance(hongkou, waves):
    report = cached_report(waves.current, HONGKOU, "zh")
    change = report.headline.changes[0]
    tone = ("up" if change.difference > 0 else "down") if change.significant else "flat"
    page = hongkou.get(f"/bureau/{waves.current.id}/{HONGKOU}").get_data(as_text=True)
    assert f'<p class="change {tone}">' in page


def test_a_first_wave_has_no_empty_comparison_table(hongkou, waves):
    page = hongkou.get(f"/bureau/{waves.earlier.id}/{HONGKOU}").get_data(as_text=True)
    assert "没有可比较的往期数据" in page
    assert "比较批次" not in page and "较2023变化" not in page  # no header-only table
    assert '<h2 id="trend-title">各区比较 Districts compared</h2>' in page  # a trend of one dot waits


def test_tables_name_dimensions_and_items_without_internal_codes(hongkou, waves):
    report = cached_report(waves.current, HONGKOU, "zh")
    page = hongkou.get(f"/bureau/{waves.current.id}/{HONGKOU}").get_data(as_text=True)
    for row in (*report.dimensions, *report.items):
        assert f'<th scope="row">{row.label}</th>' in page
        assert f">{row.code}<" not in page
