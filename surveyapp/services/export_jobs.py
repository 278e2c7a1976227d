"""API microdata exports of large waves as jobs: a worker writes the file into the shared store
(every web host can then serve it), and its owner downloads it once it is done."""
from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from surveyapp.exports.wave import export_wave
from surveyapp.extensions import db
from surveyapp.i18n import in_language
from surveyapp.models.jobs import Job
from surveyapp.models.survey import Response, Wave
from surveyapp.services.estimation import EstimationError
from surveyapp.services.jobs import JobFailed, JobProgress, submit
from surveyapp.specs import SpecError
from surveyapp.storage import app_store


def is_large(waves: list[Wave], districts: list[str] | None) -> bool:
    """More responses than SURVEYAPP_EXPORT_JOB_ROWS in the caller's part of the waves."""
    query = sa.select(sa.func.count(Response.id)).where(
        Response.wave_id.in_([w.id for w in waves]))
    if districts is not None:
        query = query.where(Response.district_code.in_(districts))
    return db.session.scalar(query) > current_app.config["SURVEYAPP_EXPORT_JOB_ROWS"]


def submit_export(options: dict[str, Any], user_id: int, lang: str) -> Job:
    """Queue an export whose options the request already checked (export_wave's arguments)."""
    return submit("export", {"options": options, "lang": lang}, user_id=user_id)


def run_export_job(params: dict, progress: JobProgress) -> str:
    """The worker's side: write the file (its rows are the job's progress), put it in the
    store, give its key, name and rows."""
    options = params["options"]
    folder = Path(tempfile.mkdtemp(dir=current_app.instance_path))
    name = f"wave-{options['label']}.{options['fmt']}"
    try:
        with in_language(params["lang"]):
            try:
                path, _snippet, rows = export_wave(
                    options["label"], options["fmt"], folder / name,
                    questionnaire=options["questionnaire"], lang=options["lang"],
                    include_comments=options["include_comments"], margins=options["margins"],
                    districts=options["districts"], time_precision=options["time_precision"],
                    progress=progress.advance, on_total=progress.set_total)
            except SpecError as error:
                raise JobFailed("\n".join(error.problems), kind="invalid") from error
            except EstimationError as error:
                raise JobFailed(str(error)) from error
        key = f"exports/{uuid.uuid4().hex}/{name}"
        app_store().put(key, path.read_bytes())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return json.dumps({"key": key, "name": name, "rows": rows, "format": options["fmt"]})


def exported_file(job: Job) -> tuple[dict[str, Any], bytes]:
    """A done export job's description and the file's bytes."""
    result = json.loads(job.result)
    return result, app_store().get(result["key"])
