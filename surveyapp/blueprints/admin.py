"""Administration: waves, questionnaires, margins, invitation codes, progress, data quality, users.

Every view is admin-only; each state change is one commit, with an audit entry saying who did it.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from surveyapp.auth import role_required
from surveyapp.blueprints import admin_forms as forms
from surveyapp.blueprints.admin_prints import letters_download
from surveyapp.blueprints.admin_problems import shown_problem
from surveyapp.extensions import db
from surveyapp.localtime import format_local, to_local, utc_offset, zone_label
from surveyapp.models.margins import MarginSet
from surveyapp.models.quality import FLAG_KINDS, QualityFlag
from surveyapp.models.survey import District, QuestionnaireVersion, Street, Wave
from surveyapp.models.survey import Response as SurveyResponse
from surveyapp.questionnaires import QuestionnaireError, parse_questionnaire
from surveyapp.services import accounts, audit, progress, quality, tokens
from surveyapp.services.catalog import (
    CatalogError,
    questionnaire_of,
    stored_districts,
    sync_questionnaire,
)
from surveyapp.services.invitation_letters import codes_csv
from surveyapp.services.invitations import InvitationError, generate_codes
from surveyapp.services.margins import import_margins_csv
from surveyapp.services.wave_results import ranked_margin_sets
from surveyapp.services.wave_schedule import close_wave, open_wave
from surveyapp.services.waves import WaveError, create_wave, pin_margin_set

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Admin pages show stored UTC times in the service's zone: {{ wave.opens_at|local_time }}.
bp.add_app_template_filter(format_local, "local_time")
bp.add_app_template_global(zone_label)


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Every admin page, present and future, is for administrators only."""


@bp.get("/")
def index():
    waves = db.session.scalars(sa.select(Wave).order_by(Wave.opens_at.desc(), Wave.id.desc()))
    return render_template("admin/index.html", waves=list(waves), margin_sets=ranked_margin_sets())


# ----------------------------------------------------------------------------- waves

@bp.route("/waves/new", methods=["GET", "POST"])
def new_wave():
    form = forms.WaveForm()
    form.questionnaire.choices = _version_choices()
    form.districts.choices = _district_choices()
    if form.validate_on_submit():
        try:
            wave = create_wave(form.label.data, db.session.get(QuestionnaireVersion,
                                                               form.questionnaire.data),
                               form.districts.data, form.opens_at.data, form.closes_at.data,
                               form.mode.data, form.sample_design.data, form.lonely_psu.data,
                               kiosk=form.kiosk.data)
        except WaveError as error:
            _field_error(form, error)
        else:
            audit.record(current_user, "wave.create", f"wave:{wave.id}",
                         f"{wave.label}; design {wave.sample_design}, lonely {wave.lonely_psu}")
            db.session.commit()
            flash(f"已创建波次 Wave created: {wave.label}", "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/wave_form.html", form=form)


@bp.post("/waves/<int:wave_id>/open")
def open_wave_now(wave_id: int):
    wave = _wave_or_404(wave_id)
    form = forms.OpenWaveForm()
    if form.validate_on_submit():
        try:
            open_wave(wave, form.closes_at.data)
        except WaveError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            # The record carries its offset, so it stays right if the zone setting changes.
            until = to_local(wave.closes_at)
            audit.record(current_user, "wave.open", f"wave:{wave.id}",
                         f"until {until:%Y-%m-%d %H:%M} {utc_offset(until.utcoffset())}")
            db.session.commit()
            flash(f"已开放 Opened: {wave.label}，至 until {format_local(wave.closes_at)} "
                  f"({zone_label()})", "success")
    else:  # empty, malformed, or a local time the zone skips
        problems = form.closes_at.errors or ["请填写 / required (YYYY-MM-DD HH:MM)"]
        flash(f"结束时间 closes at: {'; '.join(problems)}", "error")
    return redirect(url_for("admin.index"))


@bp.post("/waves/<int:wave_id>/close")
def close_wave_now(wave_id: int):
    wave = _wave_or_404(wave_id)
    if forms.ConfirmForm().validate_on_submit():
        try:
            close_wave(wave)
        except WaveError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            audit.record(current_user, "wave.close", f"wave:{wave.id}")
            db.session.commit()
            flash(f"已关闭 Closed: {wave.label}", "success")
    return redirect(url_for("admin.index"))


@bp.post("/waves/<int:wave_id>/margins")
def pin_margins(wave_id: int):
    """Pin the margin set the wave's reports are weighted to, or clear the pin (automatic)."""
    wave = _wave_or_404(wave_id)
    form = forms.MarginPinForm()
    form.margin_set.choices = ["", *(str(s.id) for s in ranked_margin_sets())]
    if not form.validate_on_submit():
        flash("权重边际：请选择边际集或自动 / margins: choose a margin set or automatic", "error")
        return redirect(url_for("admin.index"))
    chosen = db.session.get(MarginSet, int(form.margin_set.data)) if form.margin_set.data else None
    try:
        change = pin_margin_set(wave, chosen)
    except WaveError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        audit.record(current_user, "wave.margins", f"wave:{wave.id}", change)
        db.session.commit()
        flash(f"已更新权重边际 Margins set: {wave.label}: {change}", "success")
    return redirect(url_for("admin.index"))


# ------------------------------------------------------------------ questionnaires, margins

@bp.route("/questionnaires", methods=["GET", "POST"])
def questionnaires():
    form = forms.QuestionnaireUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            version = _store_upload(upload.read(), upload.filename or "upload")
        except UnicodeDecodeError:
            problems = [_("file: expected UTF-8 text (YAML) or an .xlsx workbook (XLSForm)")]
        except QuestionnaireError as error:
            problems = [shown_problem(problem) for problem in error.details]
        except CatalogError as error:
            problems = [str(error)]
        else:
            audit.record(current_user, "questionnaire.upload", f"questionnaire:{version.id}",
                         f"{version.key} v{version.version} {version.content_hash[:12]}")
            db.session.commit()
            flash(f"已保存 Stored: {version.key} v{version.version}", "success")
            return redirect(url_for("admin.questionnaires"))
        db.session.rollback()
    versions = db.session.scalars(sa.select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.key, QuestionnaireVersion.created_at.desc()))
    return render_template("admin/questionnaires.html", form=form, problems=problems,
                           versions=list(versions)), 422 if problems else 200


def _store_upload(data: bytes, filename: str) -> QuestionnaireVersion:
    """A YAML file as it is; an XLSForm workbook (.xlsx, a zip) as the YAML it converts to."""
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        from surveyapp.xlsform.reader import read_xlsform

        return sync_questionnaire(*read_xlsform(data, filename))
    text = data.decode("utf-8")
    return sync_questionnaire(parse_questionnaire(text, filename), text)


@bp.get("/questionnaires/<int:version_id>/xlsform")
def questionnaire_xlsform(version_id: int):
    """The stored version as an XLSForm workbook, to edit in Excel or load into KoboToolbox."""
    from surveyapp.xlsform.writer import ExportError, write_xlsform

    version = db.session.get(QuestionnaireVersion, version_id) or abort(404)
    try:
        data = write_xlsform(questionnaire_of(version), stored_districts())
    except ExportError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.questionnaires"))
    name = f"{version.key}-{version.version}.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/margins", methods=["GET", "POST"])
def margins():
    form = forms.MarginsUploadForm()
    form.questionnaire.choices = _version_choices()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8")
        except UnicodeDecodeError:
            problems = ["文件：需要 UTF-8 编码 / file: expected UTF-8 text"]
        else:
            version = db.session.get(QuestionnaireVersion, form.questionnaire.data)
            margin_set, found = import_margins_csv(form.name.data, form.description.data or "",
                                                   text, questionnaire_of(version))
            problems = [str(problem) for problem in found]
            if margin_set is not None:
                audit.record(current_user, "margins.upload", f"margins:{margin_set.id}",
                             f"{margin_set.name}: {len(margin_set.rows)} rows")
                db.session.commit()
                flash(f"已保存 Stored: {margin_set.name}", "success")
                return redirect(url_for("admin.margins"))
        db.session.rollback()
    sets = db.session.scalars(sa.select(MarginSet).order_by(MarginSet.created_at.desc()))
    return render_template("admin/margins.html", form=form, problems=problems,
                           sets=list(sets)), 422 if problems else 200


# ------------------------------------------------------------------------ invitation codes

@bp.route("/waves/<int:wave_id>/invitations", methods=["GET", "POST"])
def invitations(wave_id: int):
    wave = _wave_or_404(wave_id)
    form = forms.InvitationForm()
    form.district.choices = [_place_choice(d) for d in wave.districts]
    form.street.choices = [SelectChoice("", "— 全区 whole district —")] + [
        _place_choice(s) for d in wave.districts for s in d.streets]
    if form.validate_on_submit():
        try:
            codes = generate_codes(wave, form.district.data, form.count.data,
                                   form.street.data or None)
        except InvitationError as error:
            db.session.rollback()
            _field_error(form, error)
        else:  # the download is made before the commit: codes stored are codes handed out
            download = letters_download if form.letters.data else _codes_csv
            response = download(wave, form.district.data, form.street.data or "", codes)
            audit.record(current_user, "invitations.generate", f"wave:{wave.id}",
                         f"{len(codes)} codes for {form.district.data} {form.street.data or ''}"
                         + ("; letters" if form.letters.data else ""))
            db.session.commit()
            return response
    return render_template("admin/invitations.html", wave=wave, form=form)


def _codes_csv(wave: Wave, district: str, street: str, codes: list[str]) -> Response:
    """The only copy of the plain codes, as a download."""
    name = f"invitations-{wave.id}-{district}{'-' + street if street else ''}.csv"
    return Response(codes_csv(wave, district, street, codes), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --------------------------------------------------------------------- progress and quality

@bp.get("/waves/<int:wave_id>/progress")
def wave_progress(wave_id: int):
    wave = _wave_or_404(wave_id)
    return render_template("admin/progress.html", wave=wave, rows=progress.wave_progress(wave))


@bp.get("/waves/<int:wave_id>/quality")
def wave_quality(wave_id: int):
    wave = _wave_or_404(wave_id)
    flags = quality.flags_for_wave(wave.id)
    return render_template(
        "admin/quality.html", wave=wave, flags=flags, counts=quality.flag_counts(wave.id),
        manual_form=forms.ManualExclusionForm(), selection_form=forms.ExcludeSelectedForm(),
        describe_kind=quality.describe_kind, kind_name=quality.kind_name,
        kinds=FLAG_KINDS,
        places=_place_names(response for _flag, response in flags))


@bp.post("/waves/<int:wave_id>/quality/detect")
def detect_quality(wave_id: int):
    wave = _wave_or_404(wave_id)
    if forms.ConfirmForm().validate_on_submit():
        found = quality.detect(wave.id)
        audit.record(current_user, "quality.detect", f"wave:{wave.id}", f"{found} new flags")
        db.session.commit()
        flash(f"新标记 New flags: {found}", "success")
    return redirect(url_for("admin.wave_quality", wave_id=wave.id))


@bp.post("/waves/<int:wave_id>/quality/exclude")
def exclude_response(wave_id: int):
    wave = _wave_or_404(wave_id)
    form = forms.ManualExclusionForm()
    if form.validate_on_submit():
        try:
            quality.exclude_manually(form.response_id.data, wave.id, current_user,
                                     form.reason.data)
        except quality.QualityError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("已排除 Excluded", "success")
    else:
        flash("答卷编号与理由均为必填 / response id and reason are required", "error")
    return redirect(url_for("admin.wave_quality", wave_id=wave.id))


@bp.post("/waves/<int:wave_id>/quality/exclude-selected")
def exclude_selected(wave_id: int):
    """Exclude the ticked flagged responses with one reason; any bad part changes nothing."""
    wave = _wave_or_404(wave_id)
    form = forms.ExcludeSelectedForm()
    if not form.validate_on_submit():
        flash(_("reason: say why (required)") if form.flag.data else
              _("responses: select at least one"), "error")
        return redirect(url_for("admin.wave_quality", wave_id=wave.id))
    try:
        changed = quality.exclude_flags(form.flag.data, wave.id, current_user, form.reason.data)
    except quality.QualityError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Excluded %(count)d responses", count=changed), "success")
    return redirect(url_for("admin.wave_quality", wave_id=wave.id))


@bp.post("/quality/flags/<int:flag_id>/<any(exclude, include):action>")
def set_flag(flag_id: int, action: str):
    flag = db.session.get(QualityFlag, flag_id) or abort(404)
    wave_id = db.session.get(SurveyResponse, flag.response_id).wave_id
    form = forms.ReasonForm()
    if form.validate_on_submit():
        quality.set_excluded(flag, action == "exclude", current_user, form.reason.data)
        db.session.commit()
        flash("已排除 Excluded" if action == "exclude" else "已恢复 Re-included", "success")
    else:
        flash("理由：请说明原因 / reason: say why (required)", "error")
    return redirect(url_for("admin.wave_quality", wave_id=wave_id))


# ------------------------------------------------------------------------ users and audit

@bp.route("/users", methods=["GET", "POST"])
def users():
    form = forms.UserForm()
    form.districts.choices = _district_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.username.data, form.password.data, form.role.data,
                                        form.districts.data)
        except accounts.AccountError as error:
            db.session.rollback()
            form.form_errors.extend(error.problems)
        else:
            audit.record(current_user, "user.create", f"user:{user.username}",
                         f"role={user.role} districts={','.join(form.districts.data) or '-'}")
            db.session.commit()
            flash(f"已创建账号 Account created: {user.username}", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=accounts.list_users())


@bp.post("/users/<int:user_id>/<any(enable, disable):action>")
def set_user_active(user_id: int, action: str):
    user = accounts.find_user(user_id) or abort(404)
    if forms.ConfirmForm().validate_on_submit():
        if user.id == current_user.id:
            flash("不能停用自己的账号 / You cannot disable your own account.", "error")
            return redirect(url_for("admin.users"))
        accounts.set_active(user, action == "enable", current_user)
        audit.record(current_user, f"user.{action}", f"user:{user.username}")
        db.session.commit()
    return redirect(url_for("admin.users"))


@bp.get("/tokens")
def api_tokens():
    """Every API token: whose, created, expires, last used, state; active ones can be revoked."""
    return render_template("admin/tokens.html", tokens=tokens.tokens_of(),
                           state=tokens.token_state)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_api_token(token_id: int):
    if forms.ConfirmForm().validate_on_submit():
        try:
            row = tokens.revoke_token(token_id)
        except tokens.TokenError:
            abort(404)
        owner = accounts.find_user(row.user_id)
        audit.record(current_user, "token.revoke", f"token:{row.id}", f"user:{owner.username}")
        db.session.commit()
        flash(f"已撤销令牌 Token revoked: {row.id}", "success")
    return redirect(url_for("admin.api_tokens"))


@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", entries=audit.recent(500))


# ------------------------------------------------------------------------------ helpers

def _wave_or_404(wave_id: int) -> Wave:
    return db.session.get(Wave, wave_id) or abort(404)


def _version_choices() -> list[tuple[int, str]]:
    versions = db.session.scalars(sa.select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.key, QuestionnaireVersion.created_at.desc()))
    return [SelectChoice(str(v.id), f"{v.key} v{v.version} — {v.title_zh} {v.title_en}")
            for v in versions]


def _district_choices() -> list[tuple[str, str]]:
    districts = db.session.scalars(sa.select(District).order_by(District.code))
    return [_place_choice(d) for d in districts]


def _place_names(responses) -> dict[str, District | Street]:
    """The districts and streets the responses name, by code, to show names beside codes."""
    responses = list(responses)
    districts = {r.district_code for r in responses}
    streets = {r.street_code for r in responses if r.street_code}
    places: dict[str, District | Street] = {d.code: d for d in db.session.scalars(
        sa.select(District).where(District.code.in_(districts)))}
    places |= {s.code: s for s in db.session.scalars(
        sa.select(Street).where(Street.code.in_(streets)))}
    return places


def _place_choice(place: District | Street) -> SelectChoice:
    return SelectChoice(place.code, f"{place.code} {place.name_zh} {place.name_en}")


def _field_error(form, error: ValueError) -> None:
    """Show a service error ("field: what is expected") next to its field, else on the form."""
    message = str(error)
    name = message.split(":", 1)[0].strip()
    field = getattr(form, name, None) if name.isidentifier() else None
    if field is not None and hasattr(field, "errors") and isinstance(field.errors, list):
        field.errors.append(message)
    else:
        form.form_errors.append(message)
