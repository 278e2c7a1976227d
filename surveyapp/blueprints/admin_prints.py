"""Administration: printable invitation letters and street posters (PDF).

Letters print plain codes, which exist only as they are generated: the invitation codes page
(admin.invitations) hands its new codes to :func:`letters_download` when "letters" is
pressed, and the download holds the letters and the codes CSV together. Posters carry an open
wave's one link, so they can be downloaded at any time.
"""
from __future__ import annotations

import io
import zipfile

from flask import Blueprint, Response, abort, flash, redirect, request, url_for

from surveyapp.auth import role_required
from surveyapp.extensions import db
from surveyapp.models.survey import District, Street, Wave
from surveyapp.services.invitation_letters import codes_csv, invitation_letters, street_posters
from surveyapp.services.invitations import InvitationError

bp = Blueprint("admin_prints", __name__, url_prefix="/admin")


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Every page here is for administrators only, like the rest of /admin."""


@bp.get("/waves/<int:wave_id>/posters.pdf")
def posters(wave_id: int):
    """One poster per street of an open wave (``?district=CODE``: that district's streets)."""
    from surveyapp.reports.posters import build_posters  # fpdf: half a second, when printing

    wave = db.session.get(Wave, wave_id) or abort(404)
    try:
        notices = street_posters(wave, request.args.get("district") or None)
    except InvitationError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.index"))
    return _attachment(build_posters(notices), "application/pdf", f"posters-{wave.id}.pdf")


def letters_download(wave: Wave, district: str, street: str, codes: list[str]) -> Response:
    """The letters for just generated ``codes`` and their CSV, in one zip."""
    from surveyapp.reports.letters import build_letters  # fpdf: half a second, when printing

    letters = invitation_letters(wave, db.session.get(District, district),
                                 db.session.get(Street, street) if street else None, codes)
    name = f"invitations-{wave.id}-{district}{'-' + street if street else ''}"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"{name}.pdf", build_letters(letters))
        zipped.writestr(f"{name}.csv", codes_csv(wave, district, street, codes))
    return _attachment(archive.getvalue(), "application/zip", f"{name}.zip")


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
