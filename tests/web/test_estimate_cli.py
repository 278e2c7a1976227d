"""`surveyapp estimate` end to end: table, output files, recorded runs and exact reruns, which
are jobs (run in the command's process with the embedded queue, or by a worker)."""
import json
import threading
import time

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from surveyapp.cli.estimate import EXIT_DIFFERS, estimate
from surveyapp.extensions import db
from surveyapp.models.jobs import Job
from surveyapp.models.quality import QualityFlag
from surveyapp.models.runs import EstimateRun
from surveyapp.services import jobs
from tests.web.analyst_fixtures import MARGINS, add_responses

SPEC = f"""
name: test run
waves: ["2023", "2024"]
outcomes: [index, {{proportion: index, at_least: 80, name: share_satisfied}}]
domains: [district]
weighting: {{method: rake, margins: {MARGINS}}}
"""


def write_spec(tmp_path, text=SPEC):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_estimate_prints_a_table_writes_outputs_and_records_the_run(world, runner, english_terminal,
                                                                    tmp_path):
    result = runner.invoke(estimate, [write_spec(tmp_path), "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert "share_satisfied" in result.output and "310109" in result.output
    run = db.session.scalar(sa.select(EstimateRun))
    assert f"run {run.id}: 80 responses" in result.output
    assert run.response_count == 80 and len(run.data_hash) == 64 and run.created_by == "cli"
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["run"]["data_hash"] == run.data_hash
    assert written["estimates"] == json.loads(run.results_json)["estimates"]

    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"r{suffix}"
        assert runner.invoke(estimate, [write_spec(tmp_path), "--output", str(out)]).exit_code == 0
    table = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig", dtype={"level": str})
    assert len(table) == len(written["estimates"])
    assert set(table.level) == {"all", "310109", "310110"}
    workbook = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert workbook.sheetnames == ["estimates", "comparisons", "weights", "run"]
    assert [row[0].value for row in workbook["weights"].iter_rows(min_row=2)] == ["2023", "2024"]
    assert isinstance(workbook["estimates"]["E2"].value, float)


def test_estimate_and_its_rerun_in_the_app_the_console_script_builds(world, pageless_runner,
                                                                   english_terminal, tmp_path):
    """`surveyapp estimate` builds its app without the web parts (create_app(web=False)): the
    run, its rerun job (in a thread of the command's process) and the file all work there."""
    from flask import current_app

    assert not current_app.blueprints
    result = pageless_runner.invoke(estimate, [write_spec(tmp_path), "--output",
                                               str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    run = db.session.scalar(sa.select(EstimateRun))
    assert f"run {run.id}: 80 responses" in result.output and "share_satisfied" in result.output
    assert json.loads((tmp_path / "r.json").read_text())["run"]["data_hash"] == run.data_hash
    again = pageless_runner.invoke(estimate, ["--rerun", str(run.id)])
    assert again.exit_code == 0, again.output
    assert f"run {run.id}: identical results on identical data (80 responses" in again.output


def test_rerun_reproduces_identical_results(world, runner, english_terminal, tmp_path):
    assert runner.invoke(estimate, [write_spec(tmp_path)]).exit_code == 0
    run = db.session.scalar(sa.select(EstimateRun))
    result = runner.invoke(estimate, ["--rerun", str(run.id)])
    assert result.exit_code == 0, result.output
    assert f"run {run.id}: identical results on identical data (80 responses" in result.output


def test_run_and_rerun_summaries_are_in_chinese_by_default(world, runner, plain_terminal,
                                                           tmp_path):
    first = runner.invoke(estimate, [write_spec(tmp_path)])
    run = db.session.scalar(sa.select(EstimateRun))
    assert f"运行 {run.id}：80 份答卷，数据哈希" in first.output
    add_responses(world.waves["2024"], 2, seed=7)
    result = runner.invoke(estimate, ["--rerun", str(run.id)])
    assert result.exit_code == EXIT_DIFFERS, result.output
    assert f"运行 {run.id}：结果不同" in result.output
    assert "数据：自该次运行以来新增 2 份答卷" in result.output
    assert "2024/index/all/all：估计值" in result.output


def test_rerun_says_what_changed_in_the_data(world, runner, english_terminal, tmp_path):
    assert runner.invoke(estimate, [write_spec(tmp_path)]).exit_code == 0
    run = db.session.scalar(sa.select(EstimateRun))
    excluded = db.session.scalars(sa.select(sa.text("id")).select_from(sa.text("response"))
                                  .limit(2)).all()  # two responses the run used
    add_responses(world.waves["2024"], 3, seed=99)
    db.session.add_all(QualityFlag(response_id=r, kind="manual", excluded=True) for r in excluded)
    db.session.commit()
    result = runner.invoke(estimate, ["--rerun", str(run.id)])
    assert result.exit_code == EXIT_DIFFERS, result.output
    assert "data: 3 responses added since the run" in result.output
    assert "data: 2 responses excluded since the run" in result.output
    assert "2024/index/all/all: estimate" in result.output


def test_errors_exit_non_zero_with_a_clear_message(world, runner, english_terminal, tmp_path):
    bad = write_spec(tmp_path, "waves: [1999]\nweighting: {method: ipf}\n")
    result = runner.invoke(estimate, [bad])
    assert result.exit_code == 1
    assert "spec.yaml: weighting.method: expected one of none, poststratify, rake" in result.output
    result = runner.invoke(estimate, [write_spec(tmp_path, "waves: [1999]\n")])
    assert result.exit_code == 1 and "waves[0]: unknown wave '1999'" in result.output
    assert runner.invoke(estimate, ["--rerun", "999"]).output.strip().endswith(
        "--rerun: no estimate run 999")
    assert runner.invoke(estimate, []).exit_code == 2
    result = runner.invoke(estimate, [write_spec(tmp_path), "--output", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and "--output: expected a file ending in .csv" in result.output
    result = runner.invoke(estimate, [str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "cannot read the spec file" in result.output


BAD_SPEC = "waves: [2024]\nweighting: {method: ipf}\ninterval: {level: 2}\n"


def test_spec_problems_are_in_chinese_by_default_each_after_its_path(world, runner, plain_terminal,
                                                                     tmp_path):
    result = runner.invoke(estimate, [write_spec(tmp_path, BAD_SPEC)])
    assert result.exit_code == 1
    assert "估计方案有误：" in result.output
    assert ("spec.yaml: weighting.method: 应为以下之一：none, poststratify, rake, calibrate；实际为 'ipf'"
            in result.output)
    assert "spec.yaml: interval.level: 应为置信水平，如 0.95" in result.output
    result = runner.invoke(estimate, [write_spec(tmp_path, "waves: [1999]\n")])
    assert "waves[0]: 未知的测评批次 '1999'；现有批次：2023, 2024" in result.output


@pytest.mark.parametrize("environment", [
    {"SURVEYAPP_LANG": "en"},
    {"LANG": "en_US.UTF-8"},
    {"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"},
])
def test_spec_problems_are_in_english_when_the_terminal_is(world, runner, plain_terminal, tmp_path,
                                                           monkeypatch, environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(estimate, [write_spec(tmp_path, BAD_SPEC)])
    assert result.exit_code == 1 and "invalid spec:" in result.output
    assert ("spec.yaml: weighting.method: expected one of none, poststratify, rake, calibrate; "
            "got 'ipf'"
            in result.output)
    assert "spec.yaml: interval.level: expected a level such as 0.95" in result.output


def test_surveyapp_lang_wins_over_the_locale_and_must_be_zh_or_en(world, runner, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("SURVEYAPP_LANG", "zh")
    result = runner.invoke(estimate, [write_spec(tmp_path, BAD_SPEC)])
    assert "spec.yaml: weighting.method: 应为以下之一" in result.output
    monkeypatch.setenv("SURVEYAPP_LANG", "fr")
    result = runner.invoke(estimate, [write_spec(tmp_path, BAD_SPEC)])
    assert result.exit_code == 2 and "SURVEYAPP_LANG" in result.output


# ------------------------------------------------------------------- reruns are jobs

def _recorded_run(runner, tmp_path) -> EstimateRun:
    assert runner.invoke(estimate, [write_spec(tmp_path)]).exit_code == 0
    return db.session.scalar(sa.select(EstimateRun))


def test_a_rerun_is_a_job_run_here_when_no_worker_is_needed(world, runner, english_terminal,
                                                            tmp_path, queued):
    run = _recorded_run(runner, tmp_path)
    result = runner.invoke(estimate, ["--rerun", str(run.id), "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert f"run {run.id}: identical results on identical data (80 responses" in result.output
    job = db.session.scalars(sa.select(Job).where(Job.kind == "rerun")).one()
    assert job.state == "done" and job.attempts == 1
    assert job.progress == job.progress_total > 0  # the tables estimated, as the bar showed
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["estimates"] == json.loads(run.results_json)["estimates"]


def test_a_rerun_can_wait_for_a_worker(app, world, runner, english_terminal, tmp_path,
                                       queued):
    run = _recorded_run(runner, tmp_path)
    add_responses(world.waves["2024"], 2, seed=5)
    ran = []

    def worker() -> None:
        """A worker elsewhere: takes the rerun once it is queued."""
        with app.app_context():
            for _attempt in range(300):
                job_id = db.session.scalar(sa.select(Job.id).where(Job.kind == "rerun",
                                                                   Job.state == "queued"))
                db.session.rollback()
                if job_id is not None:
                    jobs.execute(job_id)
                    ran.append(job_id)
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        result = runner.invoke(estimate, ["--rerun", str(run.id), "--wait-for-worker"])
    finally:
        thread.join()
    assert result.exit_code == EXIT_DIFFERS, result.output
    assert "data: 2 responses added since the run" in result.output
    assert ran == db.session.scalars(sa.select(Job.id).where(Job.kind == "rerun")).all()


@pytest.mark.parametrize("lang, words", [
    ("en", "invalid spec:\nwaves[0]: unknown wave '2023'"),
    ("zh", "估计方案有误：\nwaves[0]: 未知的测评批次 '2023'")])
def test_a_failed_rerun_job_says_why_in_the_terminals_language(world, runner, tmp_path,
                                                              monkeypatch, queued,
                                                              lang, words):
    monkeypatch.setenv("SURVEYAPP_LANG", lang)
    run = _recorded_run(runner, tmp_path)
    world.waves["2023"].label = "2023-renamed"  # the run's spec names a wave no longer there
    db.session.commit()
    result = runner.invoke(estimate, ["--rerun", str(run.id)])
    assert result.exit_code == 1 and words in result.output, result.output
    assert db.session.scalars(sa.select(Job.state).where(Job.kind == "rerun")).one() == "failed"


def test_run_here_is_only_for_reruns(world, runner, english_terminal, tmp_path):
    result = runner.invoke(estimate, [write_spec(tmp_path), "--run-here"])
    assert result.exit_code == 2 and "--run-here/--wait-for-worker: only with --rerun" in \
        result.output
