"""Background jobs: the progress page, stale reports of an open wave, final reports of a closed
wave, reasons of failed jobs, and a worker killed mid-job (kill -9) whose job another worker
completes. The rest of the suite runs jobs in immediate mode (tests/conftest.py)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.i18n import in_language
from surveyapp.localtime import to_local
from surveyapp.models.jobs import Job
from surveyapp.models.survey import Response, utcnow
from surveyapp.services import jobs, report_cache
from surveyapp.services.report_cache import build_closed_waves
from tests.web import slow_job
from tests.web.factories import HONGKOU, make_response, make_wave
from tests.web.report_data import SUPPRESS_BELOW, make_report_waves
from tests.web.staff_fixtures import login_as, make_user, staff_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def waves(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = SUPPRESS_BELOW
    yield make_report_waves()
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = 30


def _analyst(app):
    client = staff_client(app)
    login_as(client, make_user("analyst"))
    return client


def _waiting_page(client, url: str) -> str:
    """The progress page a cold report answers with: 202, refreshing itself without script."""
    waiting = client.get(url)
    assert waiting.status_code == 202
    page = waiting.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "<script" not in page
    return page


def test_a_cold_report_shows_a_refreshing_page_then_the_download(app, waves, queued):
    client = _analyst(app)
    url = f"/bureau/{waves.current.id}/{HONGKOU}/report.pdf"
    page = _waiting_page(client, url)
    assert "报告生成中 Building the report" in page and "排队中 queued" in page
    assert client.get(url).status_code == 202  # asking again: the same job, not a second one
    job = db.session.scalars(sa.select(Job)).one()
    jobs.execute(job.id)  # a worker's turn
    ready = client.get(url)
    assert ready.status_code == 200 and ready.data.startswith(b"%PDF")
    assert ready.headers["X-Data-As-Of"].endswith(f"; {_count(waves.current)} responses")
    assert db.session.scalars(sa.select(Job)).one().state == "done"


def test_a_built_report_the_store_lost_is_built_again(app, waves, queued):
    client = _analyst(app)
    url = f"/bureau/{waves.current.id}/{HONGKOU}/report.pdf"
    _waiting_page(client, url)
    first = db.session.scalars(sa.select(Job)).one()
    jobs.execute(first.id)
    assert client.get(url).status_code == 200
    for key in report_cache.app_store().keys(f"reports/w{waves.current.id}/"):
        report_cache.app_store().delete(key)  # a wiped bucket; the job row still says done
    _waiting_page(client, url)  # not a progress page for ever: the same job, queued again
    again = db.session.scalars(sa.select(Job)).one()
    assert (again.id, again.state) == (first.id, "queued")
    jobs.execute(again.id)
    assert client.get(url).data.startswith(b"%PDF")


def test_an_open_wave_serves_the_last_report_and_rebuilds_after_the_interval(app, waves, queued):
    client = _analyst(app)
    url = f"/bureau/{waves.current.id}/{HONGKOU}/report.csv"
    client.get(url)
    jobs.execute(db.session.scalars(sa.select(Job.id)).one())
    first = client.get(url)
    before = _count(waves.current)
    make_response(waves.current, district=HONGKOU, seed=999)  # the data change
    stale = client.get(url)
    assert stale.status_code == 200 and stale.data == first.data  # at once, labelled
    assert stale.headers["X-Data-As-Of"].endswith(f"; {before} responses")
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1  # younger than 10 min
    app.config["SURVEYAPP_REPORT_REFRESH_MINUTES"] = 0
    try:
        assert client.get(url).data == first.data  # still at once, while the rebuild queues
    finally:
        app.config["SURVEYAPP_REPORT_REFRESH_MINUTES"] = 10
    rebuild = db.session.scalars(sa.select(Job).where(Job.state == "queued")).one()
    jobs.execute(rebuild.id)
    fresh = client.get(url)
    assert fresh.data != first.data
    assert fresh.headers["X-Data-As-Of"].endswith(f"; {before + 1} responses")


def test_a_closing_wave_queues_all_its_reports_once(app, waves, queued):
    closed = build_closed_waves(utcnow() + timedelta(days=31))  # the 2024 wave has closed
    assert closed == [waves.current.id]
    keys = db.session.scalars(sa.select(Job.key)).all()
    assert len(keys) == 3 * 2  # city + 2 districts, zh and en: each builds page, PDF, Excel, CSV
    assert build_closed_waves(utcnow() + timedelta(days=31)) == []  # once


def test_a_failed_job_says_why_in_both_languages(app, waves):
    client = _analyst(app)
    empty = make_wave("2025", districts=[HONGKOU])  # no responses: no report can be made
    failed = client.get(f"/bureau/{empty.id}/{HONGKOU}/report.pdf")
    page = failed.get_data(as_text=True)
    assert failed.status_code == 404
    assert "报告生成失败 Building the report failed" in page and "原因 Reason:" in page
    assert "refresh" not in page and "?retry=1" in page
    job = db.session.scalars(sa.select(Job)).one()
    finished = job.finished_at
    assert client.get(f"/bureau/{empty.id}/{HONGKOU}/report.pdf").status_code == 404
    db.session.expire_all()
    assert db.session.get(Job, job.id).finished_at == finished  # not run again by itself
    assert client.get(f"/bureau/{empty.id}/{HONGKOU}/report.pdf?retry=1").status_code == 404
    db.session.expire_all()
    assert db.session.get(Job, job.id).finished_at != finished  # asked to: run again
    job = db.session.scalars(sa.select(Job)).one()
    job.state, job.failure, job.error = "failed", jobs.LOST, None
    db.session.commit()
    assert jobs.failure_reason(job).startswith("运行此任务的后台进程已中断 3 次")
    with in_language("en"):
        assert "the workers running this job stopped 3 times" in jobs.failure_reason(job)


def _count(wave) -> int:
    return db.session.scalar(sa.select(sa.func.count(Response.id))
                             .where(Response.wave_id == wave.id))


def test_a_worker_killed_mid_job_leaves_it_to_the_next_worker(app, tmp_path, monkeypatch,
                                                               queued):
    """kill -9 a worker while it runs a job; a worker started after it completes the job."""
    monkeypatch.setitem(jobs.HANDLERS, slow_job.KIND, slow_job.HANDLER)
    marker = tmp_path / "started"
    job = jobs.submit(slow_job.KIND, {"marker": str(marker)})
    env = {**os.environ, "SURVEYAPP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SURVEYAPP_INSTANCE_PATH": app.config["SURVEYAPP_INSTANCE_PATH"],
           "SURVEYAPP_QUEUE_URL": app.config["SURVEYAPP_QUEUE_URL"],
           "SURVEYAPP_SECRET_KEY": "test", "SURVEYAPP_JOB_LEASE_SECONDS": "1"}

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", slow_job.WORKER_SCRIPT, str(ROOT)],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    first = start_worker()
    try:
        _wait(lambda: marker.exists(), "the first worker to start the job")
        assert _state(job.id) == ("running", 1)
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        second = start_worker()
        try:
            _wait(lambda: _state(job.id)[0] == "done", "the second worker to finish the job")
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    db.session.expire_all()
    finished = db.session.get(Job, job.id)
    assert finished.attempts == 2 and finished.result == f"finished by {second.pid}"


def _state(job_id: int) -> tuple[str, int]:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    return job.state, job.attempts


def _wait(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_an_open_wave_page_says_what_its_last_report_was_built_on(app, waves):
    client = _analyst(app)
    page = client.get(f"/bureau/{waves.current.id}/{HONGKOU}").get_data(as_text=True)  # at once
    label = re.search(r"数据截至 / data as of (\d\d:\d\d) \(北京时间 Beijing time\),\s+([\d,]+) 份答卷",
                      page)
    assert label and int(label.group(2).replace(",", "")) == _count(waves.current)
    built = to_local(utcnow()).replace(second=0, microsecond=0)
    assert label.group(1) in {built.strftime("%H:%M"), (built - timedelta(minutes=1)).strftime("%H:%M")}


# ------------------------------------------------------------------ the bureau's report page

def test_a_cold_page_is_built_by_the_job_that_builds_its_files(app, waves, queued, monkeypatch):
    """One job per report and data version: the page, its charts and the three files all come
    from its build; nothing is built in a request, before or after it ran."""
    client = _analyst(app)
    url = f"/bureau/{waves.current.id}/{HONGKOU}"
    page = _waiting_page(client, url)
    assert "完成后本页将显示报告" in page and "shows the report when it is ready" in page
    assert client.get(f"{url}/report.pdf?lang=zh").status_code == 202  # the same job
    assert client.get(f"{url}/charts/trend.png").status_code == 404  # no build to draw on
    job = db.session.scalars(sa.select(Job)).one()
    jobs.execute(job.id)

    def no_build_here(*args, **kwargs):
        raise AssertionError("a web request built a report")

    monkeypatch.setattr(report_cache, "cached_report", no_build_here)
    ready = client.get(url)
    assert ready.status_code == 200
    charts = re.findall(r'<img[^>]*src="([^"]+\.png[^"]*)"', ready.get_data(as_text=True))
    assert charts
    for chart in charts:
        image = client.get(chart.replace("&amp;", "&"))
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK"), ("csv", b"PK")):
        download = client.get(f"{url}/report.{fmt}?lang=zh")
        assert download.status_code == 200 and download.data.startswith(magic)
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1


def test_an_open_wave_page_is_the_last_build_until_the_rebuild(app, waves, queued):
    client = _analyst(app)
    url = f"/bureau/{waves.current.id}/{HONGKOU}?lang=en"
    client.get(url)
    jobs.execute(db.session.scalars(sa.select(Job.id)).one())
    before = _count(waves.current)
    make_response(waves.current, district=HONGKOU, seed=998)  # the data change
    stale = client.get(url)
    assert stale.status_code == 200 and _as_of_count(stale) == before  # at once, labelled
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1  # younger than 10 min
    app.config["SURVEYAPP_REPORT_REFRESH_MINUTES"] = 0
    try:
        assert _as_of_count(client.get(url)) == before  # still at once, the rebuild queued
    finally:
        app.config["SURVEYAPP_REPORT_REFRESH_MINUTES"] = 10
    jobs.execute(db.session.scalars(sa.select(Job).where(Job.state == "queued")).one().id)
    assert _as_of_count(client.get(url)) == before + 1


def _as_of_count(response) -> int:
    label = re.search(r"data as of \d\d:\d\d \([^)]*\),\s+([\d,]+) 份答卷 / responses",
                      response.get_data(as_text=True))
    return int(label.group(1).replace(",", ""))


def test_a_failed_page_build_says_why_in_the_readers_language(app, waves, monkeypatch):
    client = _analyst(app)

    def broken(*args, **kwargs):
        raise RuntimeError("the font is missing")

    monkeypatch.setattr(report_cache, "cached_report", broken)
    failed = client.get(f"/bureau/{waves.current.id}/{HONGKOU}")
    page = failed.get_data(as_text=True)
    assert failed.status_code == 500
    assert "报告生成失败 Building the report failed" in page and "refresh" not in page
    assert "RuntimeError: the font is missing" in page and "?retry=1" in page
    client.get(f"/bureau/{waves.current.id}/{HONGKOU}?lang=en")
    for job in db.session.scalars(sa.select(Job)):  # the zh and the en page: workers lost
        job.failure, job.error = jobs.LOST, None
    db.session.commit()
    zh = client.get(f"/bureau/{waves.current.id}/{HONGKOU}?lang=zh").get_data(as_text=True)
    assert "运行此任务的后台进程已中断 3 次" in zh
    en = client.get(f"/bureau/{waves.current.id}/{HONGKOU}?lang=en").get_data(as_text=True)
    assert "the workers running this job stopped 3 times" in en


def test_a_running_job_shows_the_progress_its_handler_reports(app, monkeypatch):
    """The worker records the handler's progress in the job's row while it runs (so that the
    API and `surveyapp estimate --rerun` can show it), and its last figure at the end."""
    reported, finish = threading.Event(), threading.Event()

    def counting(params, progress):
        progress.set_total(4)
        progress.advance(3)
        reported.set()
        finish.wait(30)
        progress.advance(1)
        return "counted"

    monkeypatch.setattr(jobs, "_handler", lambda kind: counting)
    job = Job(kind="run", params_json="{}", state="queued", attempts=0)
    db.session.add(job)
    db.session.commit()

    def worker() -> None:
        with app.app_context():
            jobs.execute(job.id)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert reported.wait(30)
        _wait(lambda: jobs.job_json(_fresh(job.id)).get("progress") == {"done": 3, "total": 4},
              "the worker to record the progress")
    finally:
        finish.set()
        thread.join()
    done = _fresh(job.id)
    assert (done.state, done.progress, done.progress_total) == ("done", 4, 4)
    assert "progress" not in jobs.job_json(done)


def _fresh(job_id: int) -> Job:
    db.session.rollback()
    return db.session.get(Job, job_id)


def test_an_open_waves_page_built_by_other_code_waits_for_this_codes_build(app, waves, queued,
                                                                          monkeypatch):
    """A page's content must fit the code that renders it; a file is bytes, served by any."""
    client = _analyst(app)
    url = f"/bureau/{waves.current.id}/{HONGKOU}"
    client.get(url)
    jobs.execute(db.session.scalars(sa.select(Job.id)).one())
    assert client.get(url).status_code == 200
    upgraded = "page-" + "0" * 12  # what a new release calls its page edition
    monkeypatch.setattr(report_cache, "CODE_DIGEST", "0" * 64)
    monkeypatch.setattr(report_cache, "PAGE", upgraded)
    monkeypatch.setattr(report_cache, "EDITIONS", (upgraded, *report_cache.BUILDERS))
    assert "完成后本页将显示报告" in _waiting_page(client, url)
    assert client.get(f"{url}/report.pdf?lang=zh").status_code == 200  # at once: open wave
    jobs.execute(db.session.scalars(sa.select(Job.id).where(Job.state == "queued")).one())
    assert client.get(url).status_code == 200
