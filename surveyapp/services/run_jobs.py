"""API estimate runs as jobs: the spec is checked in the request (422 at once), estimated by a
worker, and recorded as an EstimateRun whose id is the job's result."""
from __future__ import annotations

from surveyapp.extensions import db
from surveyapp.i18n import in_language
from surveyapp.models.jobs import Job
from surveyapp.services.estimation import EstimationError, record_run, run_spec
from surveyapp.services.jobs import JobFailed, submit
from surveyapp.specs import SpecError, spec_from_dict


def submit_run(document: dict, districts: list[str] | None, username: str, user_id: int,
               lang: str) -> Job:
    """Queue the estimate of an already checked spec; reasons come in the caller's ``lang``."""
    return submit("run", {"spec": document, "districts": districts, "username": username,
                          "user_id": user_id, "lang": lang}, user_id=user_id)


def run_estimate_job(params: dict) -> str:
    """The worker's side of ``submit_run``: estimate, record the run, give its id."""
    with in_language(params["lang"]):
        try:
            spec = spec_from_dict(params["spec"], source_name="spec")
            outcome = run_spec(spec, districts=params["districts"])
        except SpecError as error:  # the data changed since the request checked the spec
            raise JobFailed("\n".join(error.problems), kind="invalid") from error
        except EstimationError as error:
            raise JobFailed(str(error)) from error
    run = record_run(spec, outcome, created_by=params["username"], user_id=params["user_id"])
    db.session.commit()
    return str(run.id)
