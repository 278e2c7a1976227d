"""``surveyapp index``: a wave's latent satisfaction index (PLS path model, ACSI/CCSI style),
city-wide or for one district, as a table or JSON."""
from __future__ import annotations

import json

import click
from flask_babel import gettext as _

from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.config import terminal_language


@click.command("index")
@click.option("--wave", "wave_label", required=True, help="Wave label, e.g. 2024.")
@click.option("--district", help="District code, e.g. 310109 (default: the whole city).")
@click.option("--questionnaire", help="Questionnaire key, needed when several waves share the "
                                      "label.")
@click.option("--margins", help="Margin set to weight the wave with (default: its pinned set, "
                                 "else the newest that fits).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@with_appcontext_in_language
def index(wave_label: str, district: str | None, questionnaire: str | None,
          margins: str | None, fmt: str) -> None:
    """The latent satisfaction index with its standard error, the dimensions' importance and
    performance and their importance-performance quadrant.

    Recorded in the audit log (actor "cli")."""
    from surveyapp.extensions import db
    from surveyapp.services.audit import record_download
    from surveyapp.services.latent_index import area_latent_index
    from surveyapp.services.reporting import ReportError, find_wave
    from surveyapp.specs import SpecError

    try:
        wave = find_wave(wave_label, questionnaire, terminal_language())
        result = area_latent_index(wave, district, margins)
    except (ReportError, SpecError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    record_download(None, "run", f"wave:{wave.label}", statistic="latent_index",
                    district=district or "city", via="cli")
    db.session.commit()
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if fmt == "json"
               else _table(result))


def _table(result: dict) -> str:
    if not result["available"]:
        return f"{result['wave']} {result['area']}: " + _("no latent index") + \
            f" ({result['reason']})"
    headline = (f"{result['wave']} {result['area']}: {result['index']:.2f} "
                f"(SE {result['se']:.2f}, {result['level']:.0%} CI {result['ci_low']:.2f}-"
                f"{result['ci_high']:.2f}; n={result['n']}; {result['variance']})")
    overall = (f"overall satisfaction {result['overall_satisfaction']:.2f} "
               f"(SE {result['overall_satisfaction_se']:.2f}), R2 {result['r_squared']:.3f}")
    header = (f"{'dimension':<14}{'importance':>11}{'weight':>8}{'impact':>8}"
              f"{'performance':>13}{'SE':>6}  quadrant")
    lines = [headline, overall, header]
    for row in result["dimensions"]:
        lines.append(f"{row['dimension']:<14}{row['importance']:>11.3f}{row['weight']:>8.3f}"
                     f"{row['impact']:>8.3f}{row['performance']:>13.2f}"
                     f"{row['performance_se']:>6.2f}  {row['quadrant']}")
    return "\n".join(lines)


commands = [index]
