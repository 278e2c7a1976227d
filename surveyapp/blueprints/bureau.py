"""District bureaus: headline figures, charts and report downloads for their districts.

Every report download is recorded in the audit log. What a report may show is decided by
surveyapp.services.disclosure (suppression of small streets and their complements).

Bureau users see only their assigned districts; city analysts and admins see every district and
the city-wide report. A district outside the user's scope is a 404, exactly like one that does
not exist or that the wave does not cover, so URLs reveal nothing.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from surveyapp.auth import district_or_404, role_required
from surveyapp.extensions import db
from surveyapp.i18n import current_language
from surveyapp.localtime import format_local, to_local, zone_name
from surveyapp.models.jobs import Job
from surveyapp.models.survey import Wave
from surveyapp.reports import page
from surveyapp.reports.tables import Cell
from surveyapp.reports.wording import (
    date,
    estimate_text,
    interval,
    label,
    p_value,
    score,
    street_mark,
    title,
    verdict,
    zoned,
)
from surveyapp.services import audit, report_cache
from surveyapp.services.access import (
    city_waves,
    visible_districts,
    wave_covers,
    wave_grid,
    waves_by_district,
)
from surveyapp.services.jobs import failure_reason

bp = Blueprint("bureau", __name__, url_prefix="/bureau")
FORMATS = "any(pdf, xlsx, csv)"


@bp.before_request
@role_required("admin", "analyst", "bureau")
def _staff_only() -> None:
    """Every bureau page, present and future, needs a signed-in staff member."""


@bp.context_processor
def _report_words() -> dict:
    """How the bureau templates write figures and words: the same helpers as the PDF."""
    return {"label": label, "zh_en": page.bilingual, "change_view": page.change_view,
            "change_tag": page.change_tag, "estimate_text": estimate_text, "interval": interval,
            "verdict": verdict, "score": score, "date": date, "zoned": zoned,
            "street_mark": street_mark}


@bp.get("/")
def index():
    columns, grid = wave_grid(waves_by_district(visible_districts(current_user)))
    return render_template("bureau/index.html", columns=columns, grid=grid,
                           city_waves=city_waves(current_user))


@bp.get("/<int:wave_id>/<district>")
def district_page(wave_id: int, district: str):
    wave = _scoped_wave(wave_id, district)
    return _report_page(wave, district)


@bp.get("/<int:wave_id>/city")
@role_required("admin", "analyst")
def city_page(wave_id: int):
    return _report_page(_wave_or_404(wave_id), None)


@bp.get("/<int:wave_id>/<district>/charts/<chart_id>.png")
def district_chart(wave_id: int, district: str, chart_id: str):
    return _chart(_scoped_wave(wave_id, district), district, chart_id)


@bp.get("/<int:wave_id>/city/charts/<chart_id>.png")
@role_required("admin", "analyst")
def city_chart(wave_id: int, chart_id: str):
    return _chart(_wave_or_404(wave_id), None, chart_id)


@bp.get(f"/<int:wave_id>/<district>/report.<{FORMATS}:fmt>")
def district_download(wave_id: int, district: str, fmt: str):
    return _download(_scoped_wave(wave_id, district), district, fmt)


@bp.get(f"/<int:wave_id>/city/report.<{FORMATS}:fmt>")
@role_required("admin", "analyst")
def city_download(wave_id: int, fmt: str):
    return _download(_wave_or_404(wave_id), None, fmt)


# ------------------------------------------------------------------------------ helpers

def _wave_or_404(wave_id: int) -> Wave:
    return db.session.get(Wave, wave_id) or abort(404)


def _scoped_wave(wave_id: int, district: str) -> Wave:
    """The wave, if the user may see ``district`` and the wave covers it; otherwise 404."""
    district_or_404(district)
    wave = _wave_or_404(wave_id)
    if not wave_covers(wave, district):
        abort(404)
    return wave


def _report_page(wave: Wave, district: str | None):
    """The page drawn from the report's stored build, as downloads are served: a cold report is
    built by a job while a page refreshes; an open wave's last build is shown at once."""
    lang = current_language()
    outcome = report_cache.serve(wave, district, lang, report_cache.PAGE,
                                 user_id=current_user.id, retry=request.args.get("retry") == "1")
    if isinstance(outcome, Job):
        if outcome.failure == "refused":  # no report can be made of these data (yet)
            return render_template("bureau/no_report.html", wave=wave, district=district,
                                   message=failure_reason(outcome)), 404
        return _job_page(wave, district, outcome, "page")
    report = report_cache.page_content(wave, district, lang, outcome)
    return render_template("bureau/report.html", report=report, wave=wave, district=district,
                           title=title(report), as_of=_as_of(wave, outcome),
                           **page.page_parts(report))


def _as_of(wave: Wave, built: report_cache.StoredReport) -> dict | None:
    """While a wave is open, what the page's build shows: the local time and the count."""
    if not wave.is_open():
        return None
    return {"time": to_local(built.built_at).strftime("%H:%M"), "zone": zone_name(),
            "responses": built.responses}


def _chart(wave: Wave, district: str | None, chart_id: str) -> Response:
    """A chart of the page's stored build (the page links only charts of a build it shows)."""
    report = report_cache.last_page_content(wave, district, current_language()) or abort(404)
    chart = next((c for c in report.charts if c.id == chart_id), None) or abort(404)
    return Response(chart.png, mimetype="image/png")  # not cached: surveyapp.security_headers


def _download(wave: Wave, district: str | None, fmt: str) -> Response:
    """The file when it is stored; otherwise a page that refreshes until the job has built it.

    While a wave is open the last file built is served at once, its age in a response header
    (the file itself states when it was generated and on how many responses)."""
    lang = request.args.get("lang") if request.args.get("lang") in ("zh", "en") \
        else current_language()
    outcome = report_cache.serve(wave, district, lang, fmt, user_id=current_user.id,
                                 retry=request.args.get("retry") == "1")
    if isinstance(outcome, Job):
        return _job_page(wave, district, outcome, "download")
    name = report_cache.download_name(wave, district, lang, fmt)
    audit.record_download(current_user, "report", f"wave:{wave.id}", wave_label=wave.label,
                          district=district or "city", format=fmt, lang=lang, via="web")
    db.session.commit()  # the one change of this request: the download's audit entry
    return Response(outcome.document, mimetype=report_cache.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
        "X-Data-As-Of": f"{format_local(outcome.built_at)}; {outcome.responses} responses"})


def _job_page(wave: Wave, district: str | None, job: Job, waiting_for: str):
    """202 with a page that refreshes itself (no script: CSP-safe) while the job runs, until
    the ``waiting_for`` ("page" or "download") is ready; the reason in both languages once it
    failed (404 when no report can be made of the data)."""
    if job.state != "failed":
        return render_template("bureau/job.html", wave=wave, district=district, job=job,
                               waiting_for=waiting_for, refresh_seconds=2), 202
    status = 404 if job.failure in ("refused", "invalid") else 500
    return render_template("bureau/job.html", wave=wave, district=district, job=job,
                           waiting_for=waiting_for, reason=failure_reason(job)), status


@bp.app_template_filter("report_cell")
def report_cell(cell: Cell) -> str:
    """A table cell as text: scores with two decimals, p-values as p < 0.001, counts whole."""
    if cell.value is None:
        return "–"
    if cell.kind == "score" and isinstance(cell.value, float):
        return score(cell.value)
    if cell.kind == "p" and isinstance(cell.value, float):
        return p_value(cell.value)
    if cell.kind == "model" and isinstance(cell.value, float):
        return f"{cell.value:.1f}"
    return str(cell.value)
