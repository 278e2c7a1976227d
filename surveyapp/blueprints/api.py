"""JSON API for analysts under /api/v1: waves, questionnaires, estimate runs and microdata.

Every endpoint but the OpenAPI document needs ``Authorization: Bearer <token>`` (see
``surveyapp token create``). Access follows the web roles: admins and city analysts see every
district, a bureau user only its own (its estimates run on its districts' responses, and it
sees only its own runs). What leaves is decided by surveyapp.services.disclosure: a bureau's run
results are suppressed as its reports are, and microdata and free text are for analysts and
admins only (a bureau gets 403). Every run and microdata download is in the audit log.
Errors are JSON: ``{"error": code, "message": text, "problems": [...]}``; ``error`` is a fixed
code, ``message`` and ``problems`` are in the client's language (Chinese,
or English when Accept-Language prefers it; see surveyapp.i18n) and start with the field they
are about. Error responses state that language in Content-Language. The API takes no cookies,
so it is exempt from CSRF protection.
"""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request, send_file
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from analysis.composite_index import NORMALISATIONS, WEIGHTINGS
from surveyapp.blueprints.api_openapi import openapi_document
from surveyapp.choices import DEFAULT_TIME_PRECISION, TIME_PRECISIONS
from surveyapp.exports import FORMATS
from surveyapp.exports.codebook import LANGUAGES
from surveyapp.exports.results import results_tables, write_results
from surveyapp.exports.wave import export_wave
from surveyapp.extensions import csrf, db
from surveyapp.i18n import CONTENT_LANGUAGE, current_language
from surveyapp.models.jobs import Job
from surveyapp.models.runs import EstimateRun
from surveyapp.models.survey import QuestionnaireVersion, Wave, as_utc
from surveyapp.questionnaires import Questionnaire
from surveyapp.services import export_jobs, run_jobs, small_area_api
from surveyapp.services.access import sees_all_districts
from surveyapp.services.audit import record_download
from surveyapp.services.catalog import questionnaire_of, stored_districts
from surveyapp.services.composite import (
    SURVEY_SCORES,
    CompositeError,
    composite_for_wave,
    composite_json,
    parse_fixed_weights,
)
from surveyapp.services.disclosure import (
    DisclosureRefused,
    check_microdata,
    check_run_selection,
    disclosed_results,
    suppress_below,
    suppresses_runs_for,
)
from surveyapp.services.estimation import EstimationError
from surveyapp.services.jobs import failure_reason, job_json
from surveyapp.services.latent_index import area_latent_index
from surveyapp.services.reporting import ReportError, find_wave
from surveyapp.services.small_area import SmallAreaError
from surveyapp.services.tokens import user_for_token
from surveyapp.specs import SpecError, expected_one_of, spec_from_dict

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

RESULT_FORMATS = {"json": "application/json", "csv": "text/csv",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet",
               "sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}


class ApiError(Exception):
    """A request the API refuses: HTTP status, short code, message, optional problem list."""

    def __init__(self, status: int, code: str, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    body = {"error": error.code, "message": error.message}
    if error.problems is not None:
        body["problems"] = error.problems
    response = error_response(body, error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="surveyapp"'
    return response


@bp.errorhandler(HTTPException)
@bp.errorhandler(RequestEntityTooLarge)  # code-specific app handlers would otherwise win
def http_error(error: HTTPException) -> Response:
    """JSON for every HTTP error under /api/, routed or not (surveyapp.blueprints.errors)."""
    return error_response({"error": error.name, "message": _http_message(error)},
                          error.code or 500)


def _http_message(error: HTTPException) -> str:
    """Werkzeug's descriptions are English: say the common ones in the client's language."""
    messages = {
        404: _("nothing here; the paths are listed in /api/v1/openapi.json"),
        405: _("this method is not allowed here; see /api/v1/openapi.json"),
        413: _("the body is larger than this service accepts"),
        429: _("too many requests from this client; wait the seconds in Retry-After"),
    }
    return messages.get(error.code or 500, error.description)


def error_response(body: dict, status: int) -> Response:
    """A JSON error stating its language; caches keep one copy per Accept-Language."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Content-Language"] = CONTENT_LANGUAGE[current_language()]
    response.vary.add("Accept-Language")
    return response


@bp.before_request
def _authenticate() -> None:
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized",
                       "Authorization: " + _("expected 'Bearer <token>'"))
    user = user_for_token(token.strip())
    if user is None:
        raise ApiError(401, "unauthorized",
                       "Authorization: " + _("unknown, revoked or disabled token"))
    g.api_user = user


@bp.after_request
def _finish(response: Response) -> Response:
    """One commit per request (the token's last use, a new run); nothing kept on errors."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _scope() -> list[str] | None:
    """The districts the caller may see, or None for every district."""
    user = g.api_user
    return None if sees_all_districts(user) else [d.code for d in user.districts]


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/waves")
def waves():
    scope = _scope()
    rows = db.session.scalars(sa.select(Wave).order_by(Wave.opens_at, Wave.id))
    return jsonify([_wave_json(w, scope) for w in rows
                    if scope is None or set(scope) & {d.code for d in w.districts}])


def _wave_json(wave: Wave, scope: list[str] | None) -> dict:
    return {
        "label": wave.label,
        "questionnaire": wave.questionnaire_version.key,
        "questionnaire_version": wave.questionnaire_version.version,
        "opens_at": as_utc(wave.opens_at).isoformat(),
        "closes_at": as_utc(wave.closes_at).isoformat(),
        "mode": wave.mode,
        "status": wave.status(),
        "districts": [d.code for d in wave.districts if scope is None or d.code in scope],
    }


@bp.get("/questionnaires")
def questionnaires():
    rows = db.session.scalars(sa.select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.key, QuestionnaireVersion.id))
    return jsonify([{"key": q.key, "version": q.version, "content_hash": q.content_hash,
                     "title": {"zh": q.title_zh, "en": q.title_en},
                     "bands": _bands_json(questionnaire_of(q))} for q in rows])


def _bands_json(questionnaire: Questionnaire) -> list[dict]:
    """The band table the reports apply to this version (its own, or the default)."""
    return [{"lower": b.lower, "upper": b.upper, "label": {"zh": b.label.zh, "en": b.label.en}}
            for b in questionnaire.bands]


@bp.get("/questionnaires/<key>/<version>/xlsform")
def questionnaire_xlsform(key: str, version: str):
    """A stored version as an XLSForm workbook, the same file the admin page offers."""
    from surveyapp.xlsform.writer import ExportError, write_xlsform

    stored = db.session.scalar(sa.select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == key, QuestionnaireVersion.version == version))
    if stored is None:
        raise ApiError(404, "not_found", f"questionnaire {key!r} version {version!r}: "
                       + _("no such questionnaire version"))
    try:
        data = write_xlsform(questionnaire_of(stored), stored_districts())
    except ExportError as error:
        raise ApiError(422, "export_failed", str(error)) from error
    return Response(data, mimetype=RESULT_FORMATS["xlsx"], headers={
        "Content-Disposition": f'attachment; filename="{key}-{version}.xlsx"'})


@bp.get("/runs")
def runs():
    query = sa.select(EstimateRun).order_by(EstimateRun.id)
    if _scope() is not None:
        query = query.where(EstimateRun.user_id == g.api_user.id)
    return jsonify([_run_json(run, with_results=False) for run in db.session.scalars(query)])


@bp.post("/runs")
def submit_run():
    document = request.get_json(silent=True)
    if document is None:
        raise ApiError(400, "bad_request", "body: " + _(
            "expected a JSON estimate spec with Content-Type: application/json"))
    _check_spec(document, "spec")
    job = run_jobs.submit_run(document, _scope(), g.api_user.username, g.api_user.id,
                              current_language())
    return _accepted(job)


def _check_spec(document: object, source_name: str) -> None:
    """422 with the problems unless ``document`` is a spec the caller may run."""
    try:
        spec = spec_from_dict(document, source_name=source_name)
        problems = check_run_selection(g.api_user, spec.exclusions.policy,
                                       spec.exclusions.min_duration_seconds,
                                       crosstabs=bool(spec.crosstabs))
        if problems:
            raise SpecError(problems)
    except SpecError as error:
        raise ApiError(422, "invalid_spec", _("the estimate spec has problems"),
                       error.problems) from error


@bp.post("/runs/<int:run_id>/rerun")
def rerun_run(run_id: int):
    """Queue the rerun of a visible run (202 + job); once done, the job gives the comparison.

    The run is rerun as it was recorded (spec and districts), so a bureau may rerun only runs
    whose districts are still its own and whose spec it could submit today."""
    run = _visible_run(run_id)
    scope = _scope()
    districts = None if run.districts_json is None else json.loads(run.districts_json)
    if scope is not None and (districts is None or not set(districts) <= set(scope)):
        raise ApiError(403, "forbidden", f"run {run_id}: " + _(
            "the run covers districts that are no longer yours"))
    _check_spec(json.loads(run.spec_json), f"run {run_id}")
    threshold = suppress_below() if suppresses_runs_for(g.api_user) else None
    return _accepted(run_jobs.submit_rerun(run, g.api_user.id, current_language(), threshold))


@bp.get("/jobs/<int:job_id>")
def job_detail(job_id: int):
    """A job of the caller's: queued, running, done (with its run's URL, or a rerun's
    comparison: an audited run download) or failed (why)."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != g.api_user.id:
        raise ApiError(404, "not_found", f"job {job_id}: " + _("no such job"))
    body = _job_json(job)
    if job.state == "done" and job.kind == "rerun":
        comparison = run_jobs.rerun_comparison(job)
        if comparison is None:
            raise ApiError(404, "not_found", f"job {job_id}: " + _("the comparison is gone"))
        comparison.pop("results")  # the comparison; new figures come from a new run
        body["comparison"] = comparison
        record_download(g.api_user, "run", f"run:{comparison['run_id']}", format="comparison",
                        via="api", job=job_id)
    return jsonify(body)


@bp.get("/jobs/<int:job_id>/file")
def job_file(job_id: int):
    """The file a done export job of the caller's made (a download, audited as one)."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != g.api_user.id or job.kind != "export" \
            or job.state != "done":
        raise ApiError(404, "not_found", f"job {job_id}: " + _("no such file"))
    result, data = export_jobs.exported_file(job)
    if data is None:
        raise ApiError(404, "not_found", f"job {job_id}: " + _("no such file"))
    options = json.loads(job.params_json)["options"]
    record_download(g.api_user, "microdata", f"wave:{options['label']}", format=result["format"],
                    rows=result["rows"], comments=int(options["include_comments"]),
                    times=options["time_precision"], via="api", job=job_id)
    return send_file(io.BytesIO(data), mimetype=MEDIA_TYPES[result["format"]],
                     as_attachment=True, download_name=result["name"])


def _accepted(job: Job):
    """202 with the job and its URL; a job that already ran (immediate mode) and was refused
    answers as the request would have been refused, keeping nothing."""
    if job.state == "failed" and job.failure in ("invalid", "refused"):
        _refuse_at_once(job)
    response = jsonify(_job_json(job))
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response, 202


def _refuse_at_once(job: Job) -> None:
    """422 as a refused spec or export, the job deleted like any refused request's rows."""
    reason = failure_reason(job)
    db.session.delete(job)
    db.session.commit()
    if job.failure == "invalid":
        message = (_("the export has problems") if job.kind == "export"
                   else _("the estimate spec has problems"))
        code = "invalid_request" if job.kind == "export" else "invalid_spec"
        raise ApiError(422, code, message, reason.splitlines())
    raise ApiError(422, "export_failed" if job.kind == "export" else "estimation_failed", reason)


def _job_json(job: Job) -> dict:
    body = {**job_json(job), "url": f"/api/v1/jobs/{job.id}"}
    if job.state == "done" and job.kind == "run":
        body["run"] = f"/api/v1/runs/{job.result}"
    if job.kind == "rerun":
        body["run"] = f"/api/v1/runs/{json.loads(job.params_json)['run_id']}"
    if job.state == "done" and job.kind == "export":
        body["file"] = f"/api/v1/jobs/{job.id}/file"
    return body


def _visible_run(run_id: int) -> EstimateRun:
    run = db.session.get(EstimateRun, run_id)
    if run is None or (_scope() is not None and run.user_id != g.api_user.id):
        raise ApiError(404, "not_found", f"run {run_id}: " + _("no such run"))
    return run


def _run_json(run: EstimateRun, *, with_results: bool) -> dict:
    body = {"id": run.id, "created_at": as_utc(run.created_at).isoformat(), "created_by": run.created_by,
            "data_hash": run.data_hash, "response_count": run.response_count,
            "package_version": run.package_version, "spec": json.loads(run.spec_json),
            "districts": None if run.districts_json is None else json.loads(run.districts_json)}
    if with_results:
        body["results"] = _results(run)
    return body


def _results(run: EstimateRun) -> dict:
    """The run's results as the caller may see them (stored in full, disclosed per caller)."""
    results = json.loads(run.results_json)
    if suppresses_runs_for(g.api_user):
        return disclosed_results(results, suppress_below())
    return results


@bp.get("/runs/<int:run_id>")
def run_detail(run_id: int):
    run = _visible_run(run_id)
    record_download(g.api_user, "run", f"run:{run.id}", format="json", via="api")
    return jsonify(_run_json(run, with_results=True))


@bp.get("/runs/<int:run_id>/results")
def run_results(run_id: int):
    run = _visible_run(run_id)
    fmt = _choice("format", RESULT_FORMATS, "json")
    results = _results(run)
    record_download(g.api_user, "run", f"run:{run.id}", format=fmt, via="api")
    if fmt == "json":
        return jsonify({name: table.astype(object).where(table.notna(), None).to_dict(
            orient="records") for name, table in results_tables(results).items()})  # NaN: null
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"run-{run.id}.{fmt}"
        write_results(results, path, {"run_id": run.id, "data_hash": run.data_hash})
        data = path.read_bytes()  # estimates tables are small; comparisons ride in xlsx/json
    return Response(data, mimetype=RESULT_FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="run-{run.id}.{fmt}"'})


@bp.get("/waves/<label>/plan")
def wave_plan(label: str):
    """The wave's sampling plan with progress against it; ``plan`` null when it has none.
    A bureau sees its own districts only (and no city line)."""
    from surveyapp.services.plans import plan_json

    scope = _scope()
    questionnaire = request.args.get("questionnaire") or None
    waves = _visible_waves(label, questionnaire, scope)
    if len(waves) > 1:
        raise ApiError(400, "bad_request", "questionnaire: " + expected_one_of(
            tuple(w.questionnaire_version.key for w in waves), questionnaire or ""))
    return jsonify({"wave": label, "questionnaire": waves[0].questionnaire_version.key,
                    "plan": plan_json(waves[0], scope)})


@bp.get("/waves/<label>/microdata")
def microdata(label: str):
    try:
        check_microdata(g.api_user)
    except DisclosureRefused as error:
        raise ApiError(403, "forbidden", str(error)) from error
    fmt = _choice("format", FORMATS, "csv")
    lang = _choice("lang", LANGUAGES, "both")
    times = _choice("time_precision", TIME_PRECISIONS, DEFAULT_TIME_PRECISION)
    scope = _scope()
    questionnaire = request.args.get("questionnaire") or None
    waves = _visible_waves(label, questionnaire, scope)  # 404 outside the caller's districts
    include_comments = _choice("include_comments", ("0", "1", "false", "true"), "0") in (
        "1", "true")
    if export_jobs.is_large(waves, scope):
        options = {"label": label, "fmt": fmt, "questionnaire": questionnaire, "lang": lang,
                   "include_comments": include_comments,
                   "margins": request.args.get("margins") or None, "districts": scope,
                   "time_precision": times}
        job = export_jobs.submit_export(options, g.api_user.id, current_language())
        return _accepted(job)
    folder = Path(tempfile.mkdtemp(dir=current_app.instance_path))
    path = folder / f"wave-{label}.{fmt}"
    try:
        _path, _snippet, rows = export_wave(
            label, fmt, path, questionnaire=questionnaire, lang=lang,
            include_comments=include_comments, margins=request.args.get("margins") or None,
            districts=scope, time_precision=times)
    except SpecError as error:
        _remove(folder)
        raise ApiError(422, "invalid_request", _("the export has problems"),
                       error.problems) from error
    except EstimationError as error:
        _remove(folder)
        raise ApiError(422, "export_failed", str(error)) from error
    record_download(g.api_user, "microdata", f"wave:{label}", format=fmt, rows=rows,
                    comments=int(include_comments), times=times, via="api")
    response = send_file(path, mimetype=MEDIA_TYPES[fmt], as_attachment=True,
                         download_name=path.name)
    response.call_on_close(lambda: _remove(folder))
    return response


@bp.get("/waves/<label>/small-area")
def small_area(label: str):
    district = request.args.get("district", "")
    if not district:
        raise ApiError(400, "bad_request", "district: " + _("expected a district code"))
    scope = _scope()
    questionnaire = request.args.get("questionnaire") or None
    waves = [w for w in db.session.scalars(sa.select(Wave).where(Wave.label == label))
             if questionnaire in (None, w.questionnaire_version.key)
             and district in {d.code for d in w.districts}]
    if not waves or (scope is not None and district not in scope):
        raise ApiError(404, "not_found", f"wave {label!r}, district {district!r}: "
                       + _("no such wave for this district"))
    if len(waves) > 1:
        keys = tuple(w.questionnaire_version.key for w in waves)
        raise ApiError(400, "bad_request", "questionnaire: " + expected_one_of(keys, None))
    try:
        document = small_area_api.small_area_document(
            waves[0], district, with_model=not suppresses_runs_for(g.api_user))
    except (SmallAreaError, ValueError) as error:  # too few streets; no responses left
        raise ApiError(422, "no_model", str(error)) from error
    record_download(g.api_user, "small_area", f"wave:{waves[0].id}", district=district,
                    format="json", via="api")
    return jsonify(document)


@bp.get("/waves/<label>/latent-index")
def latent_index(label: str):
    """The wave's latent satisfaction index, city-wide or for ``?district=`` (a bureau: one of
    its own districts only; the city-wide figures are for analysts and admins)."""
    scope = _scope()
    district = request.args.get("district") or None
    if scope is not None and district not in scope:
        raise ApiError(403, "forbidden", "district: " + _(
            "a bureau account sees the latent index of its own districts only; expected "
            "?district= one of them"))
    questionnaire = request.args.get("questionnaire") or None
    waves = [w for w in db.session.scalars(sa.select(Wave).where(Wave.label == label))
             if questionnaire in (None, w.questionnaire_version.key)
             and (district is None or district in {d.code for d in w.districts})]
    if not waves:
        raise ApiError(404, "not_found", f"wave {label!r}: " + _("no such wave"))
    if len(waves) > 1:
        raise ApiError(400, "bad_request", "questionnaire: " + _(
            "several waves have this label; expected ?questionnaire= one of %(keys)s",
            keys=", ".join(sorted(w.questionnaire_version.key for w in waves))))
    try:
        body = area_latent_index(waves[0], district, request.args.get("margins") or None)
    except SpecError as error:
        raise ApiError(422, "invalid_request", _("the weighting has problems"),
                       error.problems) from error
    except ValueError as error:  # a pinned or named margin set that cannot weight the wave
        raise ApiError(422, "estimate_failed", str(error)) from error
    record_download(g.api_user, "run", f"wave:{label}", statistic="latent_index",
                    district=district or "city", via="api")
    return jsonify(body)


@bp.get("/composite")
def composite():
    """The composite quality development index of a wave (analysts and admins: it ranks every
    district)."""
    if _scope() is not None:
        raise ApiError(403, "forbidden", _("the composite index ranks every district: it is "
                                           "for analysts and admins"))
    label = request.args.get("wave", "")
    if not label:
        raise ApiError(400, "bad_request", "wave: " + _("required, e.g. wave=2024"))
    normalisation = _choice("normalisation", NORMALISATIONS, "minmax")
    weighting = _choice("weights", WEIGHTINGS, "entropy")
    survey = _choice("survey", SURVEY_SCORES, "index")
    lang = current_language()
    try:
        wave = find_wave(label, request.args.get("questionnaire") or None, lang)
    except ReportError as error:
        raise ApiError(404, "not_found", str(error)) from error
    try:
        result = composite_for_wave(wave, set_name=request.args.get("set") or None,
                                    normalisation=normalisation, weighting=weighting,
                                    fixed=parse_fixed_weights(request.args.get("fixed", "")),
                                    survey=survey)
    except CompositeError as error:
        raise ApiError(422, "composite_failed", str(error)) from error
    return jsonify(composite_json(result, lang))


def _visible_waves(label: str, questionnaire: str | None, scope: list[str] | None) -> list[Wave]:
    """The waves labelled ``label`` (of ``questionnaire``, if given) that cover a district in
    ``scope``; 404 if there is none."""
    waves = [w for w in db.session.scalars(sa.select(Wave).where(Wave.label == label))
             if questionnaire in (None, w.questionnaire_version.key)
             and (scope is None or set(scope) & {d.code for d in w.districts})]
    if not waves:
        raise ApiError(404, "not_found", f"wave {label!r}: " + _("no such wave"))
    return waves


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


def _choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        raise ApiError(400, "bad_request", f"{name}: " + expected_one_of(tuple(allowed), value))
    return value
