"""surveyapp: citizen-satisfaction surveys, from the resident's phone to the district report."""
from __future__ import annotations

from typing import Any

from flask import Flask

from surveyapp.config import load_config
from surveyapp.extensions import babel, csrf, db, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests pass their own)."""
    settings = load_config()
    settings.update(config or {})
    app = Flask(__name__, instance_path=settings["SURVEYAPP_INSTANCE_PATH"])
    app.config.update(settings)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    return app


def register_extensions(app: Flask) -> None:
    from surveyapp.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    import surveyapp.models  # noqa: F401  (register tables with the metadata)


def register_blueprints(app: Flask) -> None:
    from surveyapp.blueprints import admin, api, auth, bureau, health, survey

    for module in (survey, auth, bureau, admin, api, health):
        app.register_blueprint(module.bp)


def register_error_handlers(app: Flask) -> None:
    from surveyapp.blueprints.errors import register

    register(app)


def _migrations_dir():
    from surveyapp.config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"
