"""``surveyapp questionnaires check``: validate questionnaire and geography files before use.

Survey staff edit these files by hand; this lists every problem in every file at once so they
can fix them in one pass, and exits 1 so scripts and CI can gate on it.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import ScriptInfo

from surveyapp.questionnaires import QuestionnaireError, load_geography, load_questionnaire


@click.group("questionnaires")
def questionnaires() -> None:
    """Questionnaire definitions and geography files."""


@questionnaires.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate PATHS (files or folders; default: the configured questionnaire folder).

    A folder means its *.yaml questionnaires plus geography/*.yaml; a file inside a folder named
    ``geography`` is read as a geography file.
    """
    files = [file for path in (paths or (_configured_directory(),)) for file in _expand(path)]
    if not files:
        raise click.ClickException("no .yaml files found")
    failed = False
    for file in files:
        try:
            click.echo(f"OK {file}: {_summary(file)}")
        except QuestionnaireError as exc:
            failed = True
            for problem in exc.problems:
                click.echo(f"ERROR {problem}", err=True)
    if failed:
        raise SystemExit(1)


def _configured_directory() -> Path:
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    return Path(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.yaml")) + sorted(path.glob("geography/*.yaml"))
    return [path]


def _summary(file: Path) -> str:
    if file.parent.name == "geography":
        geography = load_geography(file)
        streets = sum(len(district.streets) for district in geography.districts)
        return (f"geography '{geography.id}', {len(geography.districts)} districts, "
                f"{streets} streets/towns, sha256 {geography.content_hash[:12]}")
    questionnaire = load_questionnaire(file)
    return (f"questionnaire '{questionnaire.id}' version {questionnaire.version}, "
            f"{len(questionnaire.items)} rated items, sha256 {questionnaire.content_hash[:12]}")


commands = [questionnaires]
