"""Estimate runs and reruns as jobs.

A run: the spec is checked in the request (422 at once), estimated by a worker, and recorded as
an EstimateRun whose id is the job's result. A rerun recomputes a recorded run with its own spec
and scope and compares the two (surveyapp.services.estimation.rerun); the comparison, with the
rerun's results, goes into the shared store, and the job's result is its key. Both report the
tables estimated as the job's progress.
"""
from __future__ import annotations

import functools
import json
import uuid
from typing import Any

from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.i18n import in_language
from surveyapp.models.jobs import Job
from surveyapp.models.runs import EstimateRun
from surveyapp.services.disclosure import disclosed_results
from surveyapp.services.estimation import (
    EstimationError,
    package_version,
    record_run,
    rerun,
    run_spec,
)
from surveyapp.services.jobs import JobFailed, JobProgress, submit
from surveyapp.specs import SpecError, spec_from_dict
from surveyapp.storage import app_store


def submit_run(document: dict, districts: list[str] | None, username: str, user_id: int,
               lang: str) -> Job:
    """Queue the estimate of an already checked spec; reasons come in the caller's ``lang``."""
    return submit("run", {"spec": document, "districts": districts, "username": username,
                          "user_id": user_id, "lang": lang}, user_id=user_id)


def run_estimate_job(params: dict, progress: JobProgress) -> str:
    """The worker's side of ``submit_run``: estimate, record the run, give its id."""
    with in_language(params["lang"]):
        try:
            spec = spec_from_dict(params["spec"], source_name="spec")
            outcome = run_spec(spec, districts=params["districts"], progress=progress.advance,
                               on_total=progress.set_total)
        except SpecError as error:  # the data changed since the request checked the spec
            raise JobFailed("\n".join(error.problems), kind="invalid") from error
        except EstimationError as error:
            raise JobFailed(str(error)) from error
    run = record_run(spec, outcome, created_by=params["username"], user_id=params["user_id"])
    db.session.commit()
    return str(run.id)


def submit_rerun(run: EstimateRun, user_id: int | None, lang: str,
                 suppress_below: int | None = None) -> Job:
    """Queue the rerun of a recorded run, its words in ``lang``. ``suppress_below``: compare
    the results as a bureau is given them (cells under it withheld); None: in full."""
    return submit("rerun", {"run_id": run.id, "lang": lang, "suppress_below": suppress_below},
                  user_id=user_id)


def run_rerun_job(params: dict, progress: JobProgress) -> str:
    """The worker's side of ``submit_rerun``: rerun, store the comparison, give its key."""
    with in_language(params["lang"]):
        run = db.session.get(EstimateRun, params["run_id"])
        if run is None:
            raise JobFailed(f"run {params['run_id']}: " + _("no such run"))
        threshold = params["suppress_below"]
        shown = (lambda results: results) if threshold is None else \
            functools.partial(disclosed_results, threshold=threshold)
        try:
            report = rerun(run, progress=progress.advance, on_total=progress.set_total,
                           shown=shown)
        except SpecError as error:  # a spec this version no longer reads as it did
            raise JobFailed("\n".join(error.problems), kind="invalid") from error
        except EstimationError as error:
            raise JobFailed(str(error)) from error
        comparison = {
            "run_id": run.id, "identical": report.identical, "summary": report.summary(),
            "data_changes": report.data_changes, "result_changes": report.result_changes,
            "recorded": {"data_hash": run.data_hash, "response_count": run.response_count,
                         "package_version": run.package_version},
            "rerun": {"data_hash": report.outcome.data_hash,
                      "response_count": report.outcome.response_count,
                      "package_version": package_version()},
            "results": shown(report.outcome.results)}
    key = f"reruns/{uuid.uuid4().hex}.json"
    app_store().put(key, json.dumps(comparison, ensure_ascii=False).encode())
    return key


def rerun_comparison(job: Job) -> dict[str, Any] | None:
    """What a done rerun job found (None when its stored comparison is gone)."""
    stored = app_store().get(job.result)
    return None if stored is None else json.loads(stored)
