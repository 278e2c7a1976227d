"""Administration: the composite quality development index (S5).

Upload an indicator set for a wave (POST, CSRF-protected, audited; a file with any problem
stores nothing), then choose the normalisation and weights (a GET form: choosing changes
nothing) to see the ranked table, the contribution chart, each component and the rank ranges
under +-20% weight changes. Admins only, as every /admin page.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from surveyapp.auth import role_required
from surveyapp.blueprints import admin_forms as forms
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.models.survey import Wave
from surveyapp.services import audit
from surveyapp.services.composite import (
    CompositeError,
    composite_chart_png,
    composite_for_wave,
    composite_json,
    parse_fixed_weights,
)
from surveyapp.services.indicators import IndicatorUploadError, import_indicators, indicator_sets

NORMALISATIONS = {"minmax": "最小-最大 min-max", "zscore": "标准分 z-score",
                  "target": "目标值比 target / ratio"}
WEIGHTINGS = {"entropy": "熵权法 entropy", "critic": "CRITIC", "fixed": "固定 fixed"}
SURVEY_SCORES = {"index": "满意度指数 satisfaction index",
                 "dimensions": "各维度得分 dimension scores"}

bp = Blueprint("admin_composite", __name__, url_prefix="/admin/composite")


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Admin pages only, like every page under /admin."""


@bp.get("/")
def index():
    form = _upload_form()
    return _page(form, [])


@bp.post("/upload")
def upload():
    form = _upload_form()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8")
        except UnicodeDecodeError:
            problems = [_("file: expected UTF-8 text")]
        else:
            try:
                stored = import_indicators(form.name.data, db.session.get(Wave, form.wave.data),
                                           form.year.data, text, form.description.data or "")
            except IndicatorUploadError as error:
                problems = [str(problem) for problem in error.problems]
            else:
                audit.record(current_user, "indicators.upload", f"indicators:{stored.id}",
                             f"{stored.name}: {len(stored.indicators)} indicators")
                db.session.commit()
                flash(f"已保存 Stored: {stored.name}", "success")
                return redirect(url_for("admin_composite.index", wave=stored.wave_id,
                                        set=stored.name))
        db.session.rollback()
    return _page(form, problems), 422 if problems else 200


@bp.get("/<int:wave_id>/chart.png")
def chart(wave_id: int):
    wave = db.session.get(Wave, wave_id) or abort(404)
    try:
        result = composite_for_wave(wave, **_choices())
    except CompositeError as error:
        abort(404, str(error))
    return Response(composite_chart_png(result, current_language()), mimetype="image/png")


def _upload_form() -> forms.IndicatorUploadForm:
    form = forms.IndicatorUploadForm()
    form.wave.choices = [(w.id, f"{w.label} ({w.questionnaire_version.key})") for w in _waves()]
    return form


def _waves() -> list[Wave]:
    return list(db.session.scalars(sa.select(Wave).order_by(Wave.opens_at.desc(), Wave.id.desc())))


def _choices() -> dict:
    """The index's settings from the query string; unknown values are refused by the service."""
    return {"set_name": request.args.get("set") or None,
            "normalisation": request.args.get("normalisation", "minmax"),
            "weighting": request.args.get("weights", "entropy"),
            "survey": request.args.get("survey", "index"),
            "fixed": parse_fixed_weights(request.args.get("fixed", "")[:2000])}


def _page(form: forms.IndicatorUploadForm, problems: list[str]) -> str:
    """The page, with the index when a wave is chosen (its problem shown, not raised)."""
    sets = indicator_sets()
    wave_id = request.args.get("wave", type=int)
    wave = db.session.get(Wave, wave_id) if wave_id else None
    body, error = None, None
    if wave is not None and request.method == "GET":
        try:
            body = composite_json(composite_for_wave(wave, **_choices()), current_language())
        except CompositeError as exc:
            error = str(exc)
    waves_with_sets = [w for w in _waves() if any(s.wave_id == w.id for s in sets)]
    return render_template(
        "admin/composite.html", form=form, problems=problems, sets=sets,
        waves=waves_with_sets, wave=wave, body=body, error=error,
        normalisations=NORMALISATIONS, weightings=WEIGHTINGS, survey_scores=SURVEY_SCORES,
        args=request.args,
        chart_url=url_for("admin_composite.chart", wave_id=wave.id, **request.args)
        if body else None)
