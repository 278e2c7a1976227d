"""The admin page of a wave's sampling plan: make it, see progress against it, and download
invitation codes to it (surveyapp.services.plans does the work)."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from surveyapp.auth import role_required
from surveyapp.blueprints.admin_forms import PlanForm
from surveyapp.extensions import db
from surveyapp.models.survey import Wave
from surveyapp.reports.safety import csv_text
from surveyapp.services import audit
from surveyapp.services.invitations import InvitationError
from surveyapp.services.plan_populations import PopulationError
from surveyapp.services.plans import (
    PlanError,
    PlanRequest,
    has_codes,
    has_responses,
    make_plan,
    plan_invitations,
    plan_of,
    plan_table,
)

bp = Blueprint("admin_plans", __name__, url_prefix="/admin")


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Sampling plans are for administrators only."""


@bp.route("/waves/<int:wave_id>/plan", methods=["GET", "POST"])
def wave_plan(wave_id: int):
    wave = db.session.get(Wave, wave_id) or abort(404)
    form = PlanForm()
    problems: list[str] = []
    if form.validate_on_submit():
        request = PlanRequest(form.total.data, form.method.data, form.min_per_street.data,
                              form.draw_streets.data, form.selection.data, form.seed.data)
        try:
            made = make_plan(wave, form.populations.data.read(),
                             form.populations.data.filename or "populations.csv", request,
                             current_user.username)
        except PopulationError as error:
            problems = error.problems
        except PlanError as error:
            problems = [str(error)]
        else:
            audit.record(current_user, "plan.create", f"wave:{wave.id}",
                         f"{made.total} {made.method} {made.selection}")
            db.session.commit()
        if problems:
            db.session.rollback()
    plan = plan_of(wave)
    table = plan_table(wave, plan) if plan is not None else None
    return render_template("admin/plan.html", wave=wave, form=form, plan=plan, table=table,
                           problems=problems, fixed=has_responses(wave) or has_codes(wave)), \
        422 if problems else 200


@bp.post("/waves/<int:wave_id>/plan/invitations")
def plan_codes(wave_id: int):
    """Codes for every drawn street up to its target, as the one CSV download of them."""
    wave = db.session.get(Wave, wave_id) or abort(404)
    plan = plan_of(wave)
    if plan is None:
        flash("本批次还没有抽样方案 / the wave has no sampling plan yet", "error")
        return redirect(url_for("admin_plans.wave_plan", wave_id=wave.id))
    try:
        codes = plan_invitations(wave, plan)
    except InvitationError as error:
        db.session.rollback()
        return render_template("admin/plan.html", wave=wave, form=PlanForm(), plan=plan,
                               table=plan_table(wave, plan), problems=[str(error)],
                               fixed=has_responses(wave) or has_codes(wave)), 422
    audit.record(current_user, "invitations.generate", f"wave:{wave.id}",
                 f"{len(codes)} codes to the sampling plan")
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["wave", "district", "street", "code", "url"])
    form_url = url_for("survey.form", wave_id=wave.id, _external=True)
    for district, street, code in codes:
        writer.writerow([csv_text(wave.label), district, street, code, f"{form_url}#code={code}"])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitations-{wave.id}-plan.csv"'})
