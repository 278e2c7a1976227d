"""Error pages: every 4xx/5xx gets a clear page (or JSON under /api/)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from surveyapp.db_liveness import DATABASE_UNAVAILABLE
from surveyapp.extensions import db
from surveyapp.i18n import API_PATH_PREFIX, in_both_languages

RETRY_AFTER_SECONDS = 5


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if request.path.startswith(API_PATH_PREFIX):  # unrouted API URLs: the API's own JSON
            from surveyapp.blueprints.api import http_error

            return http_error(error)
        return render_template("error.html", error=error), error.code

    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)
    app.teardown_appcontext(release_session)


def release_session(error: BaseException | None) -> None:
    """Give the request's connection back even if the database went away after the response
    was made. Registered after Flask-SQLAlchemy's teardown, so it runs first: there, a ROLLBACK
    on a connection the server closed would raise after the response and reach the resident
    as a 500."""
    try:
        db.session.remove()
    except DATABASE_UNAVAILABLE:
        db.session().invalidate()  # close without ROLLBACK; the pool replaces the connection
        db.session.remove()


def database_unavailable(error: Exception):
    """503, not 500, while the database cannot be reached: nothing of the request was stored
    (its transaction is rolled back), and sending it again in a moment is safe."""
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:  # the connection is gone; the pool replaces it next time
        db.session().invalidate()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.path.startswith(API_PATH_PREFIX):
        from surveyapp.blueprints.api import http_error

        response = http_error(ServiceUnavailable(_(
            "the database is unavailable for a moment; nothing was changed, please retry")))
        response.headers.update(headers)
        return response
    titles = in_both_languages(lambda: _("Service briefly unavailable"))
    messages = in_both_languages(lambda: _(
        "The service cannot reach its database at the moment, so nothing was stored. Please "
        "try again in a minute; if you were sending answers, your browser's Back button "
        "returns to them."))
    return render_template("error.html", status=503, bilingual=(titles, messages)), 503, headers
