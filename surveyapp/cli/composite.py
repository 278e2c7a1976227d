"""``surveyapp composite load`` (an indicators CSV for a wave) and ``surveyapp composite index``
(the composite quality development index of a wave, ranked, with contributions and the rank
range under +-20% weight changes).

Messages and the table are in the terminal's language (surveyapp.cli.language).
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask_babel import gettext as _

from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.config import terminal_language

# As analysis.composite_index.NORMALISATIONS / WEIGHTINGS (importing it would load pandas for
# --help); tests/web/test_composite.py checks that they agree.
NORMALISATIONS = ("minmax", "zscore", "target")
WEIGHTINGS = ("entropy", "critic", "fixed")
SURVEY_SCORES = ("index", "dimensions")  # as surveyapp.services.composite.SURVEY_SCORES


@click.group("composite")
def composite() -> None:
    """Composite quality development index: indicators by district, weights, ranks."""


@composite.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--wave", "wave_label", required=True, help="Wave label the indicators go with.")
@click.option("--questionnaire", help="Questionnaire key, when several waves share the label.")
@click.option("--name", required=True, help="Name of the indicator set (unique).")
@click.option("--year", required=True, help="Year the figures refer to, e.g. 2024.")
@click.option("--description", default="", help="Free text shown beside the set.")
@with_appcontext_in_language
def load(file: Path, wave_label: str, questionnaire: str | None, name: str, year: str,
         description: str) -> None:
    """Check FILE (CSV: district,indicator,value[,unit,direction,target,source,label_zh,
    label_en]) and store it; any problem stores nothing and is listed with its line."""
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.indicators import IndicatorUploadError, import_indicators

    wave = _wave(wave_label, questionnaire)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(_("file: expected UTF-8 text")) from error
    try:
        stored = import_indicators(name, wave, year, text, description)
    except IndicatorUploadError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(f"ERROR {file.name}: {problem}", err=True)
        raise SystemExit(1) from error
    audit.record(None, "indicators.upload", f"indicators:{stored.id}",
                 f"{stored.name}: {len(stored.indicators)} indicators, via cli")
    db.session.commit()
    click.echo(_("Stored %(name)s: %(count)d indicators for wave %(wave)s",
                 name=stored.name, count=len(stored.indicators), wave=wave.label))


@composite.command("index")
@click.option("--wave", "wave_label", required=True, help="Wave label, e.g. 2024.")
@click.option("--questionnaire", help="Questionnaire key, when several waves share the label.")
@click.option("--set", "set_name", help="Indicator set (default: the wave's newest).")
@click.option("--weights", "weighting", type=click.Choice(WEIGHTINGS), default="entropy",
              show_default=True)
@click.option("--normalisation", type=click.Choice(NORMALISATIONS), default="minmax",
              show_default=True)
@click.option("--survey", type=click.Choice(SURVEY_SCORES), default="index",
              show_default=True, help="The survey's satisfaction index, or each dimension score.")
@click.option("--fixed", default="", help="With --weights fixed: KEY=WEIGHT,... (default "
                                          "equal weights).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the contribution chart as PNG.")
@with_appcontext_in_language
def index(wave_label: str, questionnaire: str | None, set_name: str | None, weighting: str,
          normalisation: str, survey: str, fixed: str, fmt: str, chart: Path | None) -> None:
    """The index of every district of the wave, best first."""
    from surveyapp.services.composite import (
        CompositeError,
        composite_chart_png,
        composite_for_wave,
        composite_json,
        parse_fixed_weights,
    )

    wave = _wave(wave_label, questionnaire)
    lang = terminal_language()
    try:
        result = composite_for_wave(wave, set_name=set_name, normalisation=normalisation,
                                    weighting=weighting, fixed=parse_fixed_weights(fixed),
                                    survey=survey)
    except CompositeError as error:
        raise click.ClickException(str(error)) from error
    body = composite_json(result, lang)
    if fmt == "json":
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        click.echo(_table(body))
    if chart is not None:
        chart.write_bytes(composite_chart_png(result, lang))
        click.echo(f"{chart}", err=True)


def _wave(label: str, questionnaire: str | None):
    from surveyapp.services.reporting import ReportError, find_wave

    try:
        return find_wave(label, questionnaire, terminal_language())
    except ReportError as error:
        raise click.ClickException(str(error)) from error


def _table(body: dict) -> str:
    keys = [i["key"] for i in body["indicators"]]
    lines = [_("Composite index of wave %(wave)s, indicator set %(set)s (%(year)d): "
               "normalisation %(norm)s, weights %(weights)s, scale %(scale)s",
               wave=body["wave"], set=body["indicator_set"], year=body["year"],
               norm=body["normalisation"], weights=body["weights"], scale=body["scale"]), ""]
    lines += [f"  {i['key']:<22} {i['weight']:.4f}  {i['direction']:<7} {i['label']}"
              for i in body["indicators"]]
    lines += ["", f"{'#':>3} {'district':<8} {'index':>8} {'range':>7}  "
              + " ".join(f"{k[:12]:>12}" for k in keys)]
    for row in body["districts"]:
        spread = f"{row['best_rank']}-{row['worst_rank']}"
        lines.append(f"{row['rank']:>3} {row['district']:<8} {row['index']:>8.2f} {spread:>7}  "
                     + " ".join(f"{row['contributions'][k]:>12.2f}" for k in keys)
                     + f"  {row['name']}")
    for row in body["left_out"]:
        lines.append(_("left out: %(district)s: %(reason)s", district=row["district"],
                       reason=row["reason"]))
    return "\n".join(lines)


commands = [composite]
