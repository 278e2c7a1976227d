"""Administration: waves, questionnaires, margins, invitation codes, data quality."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
