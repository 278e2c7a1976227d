"""Flask-Migrate bound on first use, so that only a migration pays for importing alembic.

Importing Flask-Migrate loads alembic (about 0.4 s), which every process that builds the app
(each command, worker and web server) would pay although only ``surveyapp db ...`` and the
tests' ``upgrade()`` migrate. :func:`bind_migrations` puts a stand-in at
``app.extensions["migrate"]``, where Flask-Migrate's commands and migrations/env.py look; the
first attribute read from it creates the real ``Migrate`` (which replaces the stand-in there)
and answers from the real entry.

The console script offers ``db`` itself (surveyapp.cli); Flask's own ``flask`` command does
not list it, as ``Migrate`` is not yet bound when that command lists the app's commands.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy


class LazyMigrate:
    """``app.extensions["migrate"]`` until something reads it (see the module docstring)."""

    def __init__(self, app: Flask, db: SQLAlchemy, directory: Path, **options: Any) -> None:
        self._app, self._db, self._directory, self._options = app, db, directory, options
        self._entry = None

    def __getattr__(self, name: str) -> Any:
        # called for the names the stand-in lacks: everything Flask-Migrate's entry has
        if self._entry is None:
            from flask_migrate import Migrate

            Migrate(self._app, self._db, directory=str(self._directory), **self._options)
            self._entry = self._app.extensions["migrate"]
        return getattr(self._entry, name)


def bind_migrations(app: Flask, db: SQLAlchemy, directory: Path, **options: Any) -> None:
    """Flask-Migrate's ``Migrate(app, db, directory, **options)``, created when first used."""
    app.extensions["migrate"] = LazyMigrate(app, db, directory, **options)
