"""District bureaus: headline figures, charts and report downloads for their districts."""
from flask import Blueprint

bp = Blueprint("bureau", __name__, url_prefix="/bureau")
