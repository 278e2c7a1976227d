"""surveyapp: citizen-satisfaction surveys, from the resident's phone to the district report.

Importing the package costs nothing: every ``surveyapp.*`` import (the console script's first)
runs this file, so Flask, SQLAlchemy and the extensions are imported by ``create_app`` only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the application; ``config`` overrides the environment (tests pass their own).

    ``web=False`` builds it for a command that serves no request (``surveyapp estimate``,
    ``export``: see surveyapp.cli): the database, the translations and the models, without
    what only requests use (proxies, input guards, CSRF, sign-in, the blueprints and their
    views, error pages, security headers, rate limits, the request-time collector). Those are
    most of the start-up's imports; a command's session is still released when its
    application context ends.
    """
    from flask import Flask

    from surveyapp.config import load_config

    settings = load_config()
    settings.update(config or {})
    app = Flask(__name__, instance_path=settings["SURVEYAPP_INSTANCE_PATH"])
    app.config.update(settings)
    if not web:
        register_extensions(app, web=False)
        from surveyapp.blueprints.errors import release_session

        app.teardown_appcontext(release_session)
        return app
    trust_proxies(app)
    register_input_guards(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_protections(app)
    register_gc_safepoint(app)
    return app


def register_input_guards(app: Flask) -> None:
    """First: the guard must run before CSRF protection reads a body, and the bounded id
    converter must exist before any blueprint adds a route using it."""
    from surveyapp import converters, input_guards

    input_guards.register(app)
    converters.register(app)


def trust_proxies(app: Flask) -> None:
    """Behind SURVEYAPP_TRUSTED_PROXIES proxies, take the client's address from X-Forwarded-For.

    Only that many hops are believed, so a client cannot pick its own address (and escape
    sign-in throttling) by sending the header itself.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = app.config.get("SURVEYAPP_TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask, *, web: bool = True) -> None:
    """The database (and its migrations, bound when first used), translations; with ``web``
    also CSRF protection and sign-in."""
    from surveyapp.db_liveness import ping_after_rest
    from surveyapp.extensions import babel, csrf, db, login_manager
    from surveyapp.i18n import select_locale
    from surveyapp.lazy_migrate import bind_migrations
    from surveyapp.private_files import private_sqlite_file

    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_after_rest(engine)
    bind_migrations(app, db, _migrations_dir(), compare_type=True, render_as_batch=True)
    if web:
        csrf.init_app(app)
        login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    import surveyapp.models  # noqa: F401  (register tables with the metadata)


def register_blueprints(app: Flask) -> None:
    from surveyapp.blueprints import (
        admin, admin_composite, admin_plans, admin_prints, api, auth, bureau, health, survey)

    for module in (survey, auth, bureau, admin, admin_prints, admin_plans, admin_composite,
                   api, health):
        app.register_blueprint(module.bp)


def register_protections(app: Flask) -> None:
    """Security headers and rate limits (imported here: Flask-Limiter is slow to load for CLIs)."""
    from surveyapp.rate_limits import register_rate_limits
    from surveyapp.security_headers import register_security_headers

    register_security_headers(app)
    register_rate_limits(app)


def register_error_handlers(app: Flask) -> None:
    from surveyapp.blueprints.errors import register

    register(app)


def register_gc_safepoint(app: Flask) -> None:
    """The start of a request is where a threaded server on Python 3.11 runs the cyclic
    collector (surveyapp.gc_safepoints); a no-op wherever the automatic collector is on."""
    from surveyapp.gc_safepoints import collect_if_due

    app.before_request(collect_if_due)


def _migrations_dir():
    from surveyapp.config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"
