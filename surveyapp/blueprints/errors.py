"""Error pages: every 4xx/5xx gets a clear page (or JSON under /api/)."""
from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from surveyapp.i18n import API_PATH_PREFIX


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if request.path.startswith(API_PATH_PREFIX):  # unrouted API URLs: the API's own JSON
            from surveyapp.blueprints.api import http_error

            return http_error(error)
        return render_template("error.html", error=error), error.code
