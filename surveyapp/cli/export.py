"""``surveyapp export``: a wave's microdata for R, Stata, SPSS or Parquet readers.

Errors are in the terminal's language (surveyapp.cli.language); ``--lang`` is the labels'.
"""
from __future__ import annotations

import click
from flask_babel import gettext as _

from surveyapp.choices import DEFAULT_TIME_PRECISION, TIME_PRECISIONS
from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.cli.progress import StageProgress
from surveyapp.exports import FORMATS
from surveyapp.exports.codebook import LANGUAGES


@click.command("export")
@click.option("--wave", required=True, help='Wave label, e.g. "2024".')
@click.option("--questionnaire", default=None,
              help="Questionnaire key (e.g. citizen) when several waves share the label.")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS))
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write; the R snippet is written beside it as FILE.R.")
@click.option("--lang", default="both", show_default=True, type=click.Choice(LANGUAGES),
              help="Language of variable and value labels ('both': 中文 / English).")
@click.option("--margins", default=None, help="Rake the weights to this margin set "
                                              "(default: weight 1 for every response).")
@click.option("--district", "districts", multiple=True, help="Only this district; repeatable.")
@click.option("--include-comments", is_flag=True,
              help="Include respondents' free text (made safe against spreadsheet formulas).")
@click.option("--time-precision", default=DEFAULT_TIME_PRECISION, show_default=True,
              type=click.Choice(TIME_PRECISIONS),
              help="Submission times cut to the local day or hour; 'full' keeps the second "
                   "(identifying with a street and demographics: keep such files in-house).")
@with_appcontext_in_language
def export(wave: str, questionnaire: str | None, fmt: str, output: str, lang: str, margins: str | None,
           districts: tuple[str, ...], include_comments: bool, time_precision: str) -> None:
    """Export a wave with scores, design variables, final weights and labels.

    Every export is recorded in the audit log (actor "cli").
    """
    from surveyapp.exports.wave import export_wave  # the data stack loads only when needed
    from surveyapp.extensions import db
    from surveyapp.services.audit import record_download
    from surveyapp.services.estimation import EstimationError
    from surveyapp.specs import SpecError

    try:
        with StageProgress(_("Reading and weighting the responses…"), _("writing"),
                           _("row")) as progress:
            path, snippet, rows = export_wave(wave, fmt, output, questionnaire=questionnaire,
                                              lang=lang, margins=margins,
                                              districts=districts or None,
                                              include_comments=include_comments,
                                              time_precision=time_precision,
                                              progress=progress.advance,
                                              on_total=progress.set_total)
    except SpecError as error:
        raise click.ClickException("\n".join(error.problems)) from error
    except (EstimationError, OSError) as error:
        raise click.ClickException(str(error)) from error
    record_download(None, "microdata", f"wave:{wave}", format=fmt, rows=rows,
                    comments=int(include_comments), times=time_precision,
                    districts=",".join(districts) or "all")
    db.session.commit()
    click.echo(f"wrote {rows} responses to {path} and the R snippet {snippet}")


commands = [export]
