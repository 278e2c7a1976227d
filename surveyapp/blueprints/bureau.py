"""District bureaus: headline figures, charts and report downloads for their districts.

Bureau users see only their assigned districts; city analysts and admins see every district.
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from surveyapp.auth import role_required
from surveyapp.services.access import visible_districts, waves_by_district

bp = Blueprint("bureau", __name__, url_prefix="/bureau")


@bp.before_request
@role_required("admin", "analyst", "bureau")
def _staff_only() -> None:
    """Every bureau page, present and future, needs a signed-in staff member."""


@bp.get("/")
def index():
    districts = visible_districts(current_user)
    return render_template("bureau/index.html", rows=waves_by_district(districts))
