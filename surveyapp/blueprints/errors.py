"""Error pages: every 4xx/5xx gets a clear page (or JSON under /api/)."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify(error=error.name, message=error.description), error.code
        return render_template("error.html", error=error), error.code
