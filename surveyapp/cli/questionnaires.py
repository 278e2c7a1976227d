"""``surveyapp questionnaires check``: validate questionnaire and geography files before use;
``export-xlsform`` / ``import-xlsform``: the same questionnaires as XLSForm workbooks.

Survey staff edit these files by hand; this lists every problem in every file at once so they
can fix them in one pass, and exits 1 so scripts and CI can gate on it. The readers are
imported when a command runs, so that `surveyapp --help` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import ScriptInfo

from surveyapp.cli.language import with_appcontext_in_language


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
    from surveyapp.questionnaires import QuestionnaireError

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


@questionnaires.command("export-xlsform")
@click.argument("questionnaire", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx to write (default: the questionnaire's name with .xlsx).")
@click.option("--geography", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Geography file for the district and street lists (default: the one in "
                   "the questionnaire folder's geography/).")
@with_appcontext_in_language
def export_xlsform(questionnaire: Path, output: Path | None, geography: Path | None) -> None:
    """Write QUESTIONNAIRE (a .yaml file) as an XLSForm workbook for Excel, KoboToolbox, ODK."""
    from flask_babel import gettext as _

    from surveyapp.questionnaires import QuestionnaireError, load_geography, load_questionnaire
    from surveyapp.xlsform.writer import ExportError, write_xlsform

    try:
        districts = load_geography(geography or _only_geography()).districts
        data = write_xlsform(load_questionnaire(questionnaire), districts)
    except (QuestionnaireError, ExportError) as error:
        _fail(error)
    output = output or questionnaire.with_suffix(".xlsx")
    output.write_bytes(data)
    click.echo(_("wrote %(path)s", path=output))


@questionnaires.command("import-xlsform")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The questionnaire .yaml to write (default: the workbook's name with .yaml).")
@with_appcontext_in_language
def import_xlsform(workbook: Path, output: Path | None) -> None:
    """Read WORKBOOK (an XLSForm .xlsx) into a questionnaire .yaml, checked in full."""
    from flask_babel import gettext as _

    from surveyapp.questionnaires import QuestionnaireError
    from surveyapp.xlsform.reader import read_xlsform

    try:
        questionnaire, text = read_xlsform(workbook.read_bytes(), workbook.name)
    except QuestionnaireError as error:
        _fail(error)
    output = output or workbook.with_suffix(".yaml")
    output.write_text(text, encoding="utf-8")
    click.echo(_("wrote %(path)s: questionnaire '%(id)s' version %(version)s",
                 path=output, id=questionnaire.id, version=questionnaire.version))


def _fail(error: Exception) -> None:
    for problem in getattr(error, "problems", [str(error)]):
        click.echo(f"ERROR {problem}", err=True)
    raise SystemExit(1)


def _only_geography() -> Path:
    from flask_babel import gettext as _

    found = sorted((_configured_directory() / "geography").glob("*.yaml"))
    if len(found) != 1:
        raise click.UsageError(_("--geography: name the geography file (found %(count)d in "
                                 "the questionnaire folder)", count=len(found)))
    return found[0]


def _configured_directory() -> Path:
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    return Path(app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.yaml")) + sorted(path.glob("geography/*.yaml"))
    return [path]


def _summary(file: Path) -> str:
    from surveyapp.questionnaires import load_geography, load_questionnaire

    if file.parent.name == "geography":
        geography = load_geography(file)
        streets = sum(len(district.streets) for district in geography.districts)
        return (f"geography '{geography.id}', {len(geography.districts)} districts, "
                f"{streets} streets/towns, sha256 {geography.content_hash[:12]}")
    questionnaire = load_questionnaire(file)
    return (f"questionnaire '{questionnaire.id}' version {questionnaire.version}, "
            f"{len(questionnaire.items)} rated items, sha256 {questionnaire.content_hash[:12]}")


commands = [questionnaires]
