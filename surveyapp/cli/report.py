"""``surveyapp report``: a district's (or the city's) report for a wave as PDF, Excel or CSV.

Errors are in the terminal's language (surveyapp.cli.language); ``--lang`` is the report's.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask_babel import gettext as _

from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.config import terminal_language

FORMATS = ("pdf", "xlsx", "csv")


@click.command("report")
@click.option("--wave", "wave_label", required=True, help="Wave label, e.g. 2024.")
@click.option("--district", help="District code, e.g. 310109 (Hongkou).")
@click.option("--city", is_flag=True, help="The city-wide report instead of a district's.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="pdf",
              show_default=True, help="csv: a zip of one CSV file per table with a README.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--questionnaire", help="Questionnaire key (citizen, public_service, ...), needed "
                                      "when several waves share the label.")
@click.option("--margins", help="Margin set to weight every wave with (default: each wave's "
                                 "pinned set, else the newest that fits).")
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write.")
@with_appcontext_in_language
def report(wave_label: str, district: str | None, city: bool, fmt: str, lang: str,
           questionnaire: str | None, margins: str | None, output: str) -> None:
    """Build a report from the stored responses (cached until the data change).

    Every report written is recorded in the audit log (actor "cli")."""
    # Imported here so that every other command starts without loading the report stack.
    from surveyapp.extensions import db
    from surveyapp.services.audit import record_download
    from surveyapp.services.report_cache import report_document
    from surveyapp.services.reporting import ReportError, check_district, find_wave
    from surveyapp.specs import SpecError

    if city == (district is not None):
        raise click.UsageError(_("give either --district CODE or --city"))
    try:
        wave = find_wave(wave_label, questionnaire, terminal_language())
        if district is not None:
            check_district(wave, district, terminal_language())
        document = report_document(wave, district, lang, fmt, margins)
    except (ReportError, SpecError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    Path(output).write_bytes(document)
    record_download(None, "report", f"wave:{wave.id}", wave_label=wave.label,
                    district=district or "city", format=fmt, lang=lang, via="cli")
    db.session.commit()
    click.echo(f"{output}: {len(document):,} bytes")


commands = [report]
