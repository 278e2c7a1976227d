"""``surveyapp sae``: small-area (Fay-Herriot) estimates for the streets of one district.

The command line is the server's operator, so it shows the whole model (coefficients, model
variance, shrinkage, direct values the reports withhold) beside what the report publishes.
Errors are in the terminal's language (surveyapp.cli.language).
"""
from __future__ import annotations

import json

import click

from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.config import terminal_language

TABLE_COLUMNS = ("n", "direct", "direct_se", "eblup", "rmse", "ci_low", "ci_high", "shrinkage")


@click.command("sae")
@click.option("--wave", "wave_label", required=True, help="Wave label, e.g. 2024.")
@click.option("--district", required=True, help="District code, e.g. 310109 (Hongkou).")
@click.option("--questionnaire", help="Questionnaire key, needed when several waves share the "
                                      "label.")
@click.option("--margins", help="Margin set to weight the waves with (default: each wave's "
                                 "pinned set, else the newest that fits).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@with_appcontext_in_language
def sae(wave_label: str, district: str, questionnaire: str | None, margins: str | None,
        fmt: str) -> None:
    """Fay-Herriot EBLUP and MSE-based 95% interval for each street of DISTRICT."""
    # Imported here so that every other command starts without loading the analysis stack.
    from surveyapp.services.disclosure import suppress_below
    from surveyapp.services.reporting import ReportError, check_district, find_wave, report_inputs
    from surveyapp.services.small_area import SmallAreaError, analyst_json, published_json
    from surveyapp.services.small_area_report import district_published
    from surveyapp.specs import SpecError

    try:
        wave = find_wave(wave_label, questionnaire, terminal_language())
        check_district(wave, district, terminal_language())
        model, published = district_published(report_inputs(wave, margins), district,
                                              suppress_below())
    except (ReportError, SpecError, SmallAreaError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    codes = [row.code for row in published]
    if fmt == "json":
        click.echo(json.dumps({"wave": wave.label, "district": district,
                               "suppress_below": suppress_below(),
                               "published": published_json(published),
                               "model": analyst_json(model, codes)},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"wave {wave.label}, district {district}: REML model variance "
               f"{model.refvar:.4g}, {model.iterations} iterations; coefficients "
               + ", ".join(f"{k} {v:.4g}" for k, v in model.beta.items()))
    table = model.streets.loc[codes, list(TABLE_COLUMNS)]
    table["published"] = [_published_text(row) for row in published]
    table["basis"] = [row.basis for row in published]
    click.echo(table.to_string(float_format=lambda v: f"{v:.2f}"))


def _published_text(row) -> str:
    direct = "direct" if row.direct else "direct withheld"
    model = "model withheld" if row.model_withheld else "model"
    return f"{direct}, {model}"


commands = [sae]
