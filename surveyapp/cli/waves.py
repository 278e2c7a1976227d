"""``surveyapp wave create``: a wave from the command line, with its declared sample design.

The same service as the admin page (surveyapp.services.waves.create_wave): a wave that cannot
be stored, a design that does not fit the geography or the questionnaire included, is refused
with the field and what is expected (Chinese and English), and nothing is stored.
"""
from __future__ import annotations

from datetime import datetime

import click

from surveyapp.choices import (
    DEFAULT_DESIGN,
    DEFAULT_LONELY_PSU,
    DESIGN_NAMES,
    LONELY_PSU_RULES,
    SAMPLE_DESIGNS,
    WAVE_MODES,
)
from surveyapp.cli.language import with_appcontext_in_language

TIME_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]


@click.group("wave")
def wave() -> None:
    """Survey waves."""


@wave.command("create")
@click.option("--label", required=True, help='Wave label, e.g. "2025".')
@click.option("--questionnaire", "questionnaire_key", required=True,
              help="Questionnaire key (citizen, public_service, ...); its latest version.")
@click.option("--district", "districts", multiple=True, required=True,
              help="District code covered, e.g. 310109; repeat for several.")
@click.option("--opens", required=True, type=click.DateTime(TIME_FORMATS),
              help="Opening time in the service's zone (SURVEYAPP_TIMEZONE), YYYY-MM-DD HH:MM.")
@click.option("--closes", required=True, type=click.DateTime(TIME_FORMATS),
              help="Closing time in the service's zone, YYYY-MM-DD HH:MM.")
@click.option("--mode", type=click.Choice(WAVE_MODES), default="open", show_default=True)
@click.option("--sample-design", type=click.Choice(SAMPLE_DESIGNS), default=DEFAULT_DESIGN,
              show_default=True, help="How the sample is drawn: "
              + "; ".join(f"{k}: {DESIGN_NAMES[k][1]}" for k in SAMPLE_DESIGNS) + ".")
@click.option("--lonely-psu", type=click.Choice(LONELY_PSU_RULES), default=DEFAULT_LONELY_PSU,
              show_default=True, help="What a stratum with a single unit contributes (as R's "
              "survey.lonely.psu; fail refuses the analysis).")
@with_appcontext_in_language
def create(label: str, questionnaire_key: str, districts: tuple[str, ...], opens: datetime,
           closes: datetime, mode: str, sample_design: str, lonely_psu: str) -> None:
    """Create a wave; its sample design is fixed from then on."""
    from surveyapp.extensions import db
    from surveyapp.localtime import LocalTimeError, from_local
    from surveyapp.services import audit
    from surveyapp.services.waves import WaveError, create_wave, latest_version

    version = latest_version(questionnaire_key)
    if version is None:
        raise click.BadParameter(f"问卷{questionnaire_key!r}未加载 / questionnaire "
                                 f"{questionnaire_key!r} is not loaded; expected the key of a "
                                 "file in the questionnaire folder", param_hint="--questionnaire")
    try:
        made = create_wave(label, version, districts, from_local(opens), from_local(closes),
                           mode, sample_design, lonely_psu)
    except (WaveError, LocalTimeError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    audit.record(None, "wave.create", f"wave:{made.id}",
                 f"{made.label}; design {made.sample_design}, lonely {made.lonely_psu}")
    db.session.commit()
    click.echo(f"created wave {made.label} ({questionnaire_key}, {len(made.districts)} "
               f"district(s), {made.mode}): sample design {made.sample_design}, lonely PSU "
               f"{made.lonely_psu}")


commands = [wave]
