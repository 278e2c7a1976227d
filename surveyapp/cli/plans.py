"""``surveyapp plan create|show|invitations``: a wave's sampling plan from the command line.

The same service as the admin page (surveyapp.services.plans): populations from a CSV
(``street_code,adult_population``), a total, an allocation method, optionally a draw of streets.
The database layer is imported when a command runs, so that `surveyapp --help` stays fast.
"""
from __future__ import annotations

import csv
from pathlib import Path

import click

from surveyapp.choices import PLAN_METHODS, PLAN_SELECTIONS
from surveyapp.cli.language import with_appcontext_in_language


@click.group("plan")
def plan() -> None:
    """Sampling plans: allocation, street draw, progress against the plan."""


def _wave(label: str, questionnaire: str | None):
    from surveyapp.services.estimation import find_waves
    from surveyapp.specs import SpecError

    try:
        (found,) = find_waves([label], questionnaire)
    except SpecError as error:
        raise click.BadParameter("; ".join(error.problems), param_hint="--wave") from error
    return found


@plan.command("create")
@click.option("--wave", "label", required=True, help="Wave label.")
@click.option("--questionnaire", default=None, help="Questionnaire key, if labels repeat.")
@click.option("--populations", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV with street_code,adult_population.")
@click.option("--total", required=True, type=click.IntRange(1), help="Total valid responses.")
@click.option("--method", type=click.Choice(PLAN_METHODS), default="proportional",
              show_default=True)
@click.option("--min-per-street", type=click.IntRange(0), default=0, show_default=True)
@click.option("--draw-streets", type=click.IntRange(1), default=None,
              help="Streets to draw in each district (default: every street).")
@click.option("--selection", type=click.Choice(PLAN_SELECTIONS[1:]), default="pps",
              show_default=True, help="How streets are drawn: srs, or pps by population.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--sd-wave", default=None,
              help="Wave whose SDs Neyman and the precision use (default: the last one).")
@with_appcontext_in_language
def create(label: str, questionnaire: str | None, populations: str, total: int, method: str,
           min_per_street: int, draw_streets: int | None, selection: str, seed: int,
           sd_wave: str | None) -> None:
    """Make (or replace) the plan of a wave that has no responses yet."""
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.plan_populations import PopulationError
    from surveyapp.services.plans import PlanError, PlanRequest, make_plan

    wave = _wave(label, questionnaire)
    request = PlanRequest(total, method, min_per_street, draw_streets, selection, seed)
    path = Path(populations)
    try:
        made = make_plan(wave, path.read_bytes(), path.name, request, "cli", sd_wave)
    except (PlanError, PopulationError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    audit.record(None, "plan.create", f"wave:{wave.id}", _summary(made))
    db.session.commit()
    click.echo(f"plan for wave {wave.label}: {_summary(made)}; sample design now "
               f"{wave.sample_design}")
    _print_table(wave, made)


def _summary(made) -> str:
    drawn = sum(r.selected for r in made.streets)
    return (f"{made.total} responses, {made.method}, min {made.min_per_street}/street, "
            f"{drawn} of {len(made.streets)} streets ({made.selection}"
            + (f", seed {made.seed}" if made.seed is not None else "") + ")")


@plan.command("show")
@click.option("--wave", "label", required=True, help="Wave label.")
@click.option("--questionnaire", default=None, help="Questionnaire key, if labels repeat.")
@with_appcontext_in_language
def show(label: str, questionnaire: str | None) -> None:
    """The plan with progress (valid responses) and expected precision."""
    from surveyapp.services.plans import plan_of

    wave = _wave(label, questionnaire)
    made = plan_of(wave)
    if made is None:
        raise click.ClickException(f"测评批次{wave.label}没有抽样方案 / wave {wave.label} has no "
                                   "sampling plan; expected one made with `surveyapp plan create`")
    click.echo(f"plan for wave {wave.label}: {_summary(made)}")
    _print_table(wave, made)


def _print_table(wave, made) -> None:
    from surveyapp.services.plans import plan_table

    city, districts = plan_table(wave, made)
    sd = f" (SDs from wave {made.sd_wave_label})" if made.sd_wave_label else ""
    click.echo(f"{'area':<34}{'population':>11}{'pi':>7}{'target':>8}{'valid':>7}"
               f"{'±95% CI':>9}{sd}")
    for row, streets in [(city, [])] + districts:
        click.echo(_line(row, 0))
        for street in streets:
            if street.selected:
                click.echo(_line(street, 2))
    skipped = sum(not s.selected for _, streets in districts for s in streets)
    if skipped:
        click.echo(f"({skipped} streets not drawn are not listed)")


def _line(row, indent: int) -> str:
    code = row.street or row.district
    name = f"{' ' * indent}{code + ' ' if code else ''}{row.name_en}"[:33]
    pi = "" if row.inclusion_probability is None else f"{row.inclusion_probability:.3f}"
    hw = "" if row.half_width is None else f"{row.half_width:.2f}"
    return f"{name:<34}{row.population:>11}{pi:>7}{row.target:>8}{row.valid:>7}{hw:>9}"


@plan.command("invitations")
@click.option("--wave", "label", required=True, help="Wave label.")
@click.option("--questionnaire", default=None, help="Questionnaire key, if labels repeat.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default="-",
              help="CSV file for the plain codes (default: standard output).")
@with_appcontext_in_language
def invitations(label: str, questionnaire: str | None, output: str) -> None:
    """Invitation codes per drawn street up to its target (codes already issued count)."""
    from surveyapp.extensions import db
    from surveyapp.services import audit
    from surveyapp.services.invitations import InvitationError
    from surveyapp.services.plans import plan_invitations, plan_of

    wave = _wave(label, questionnaire)
    made = plan_of(wave)
    if made is None:
        raise click.ClickException(f"wave {wave.label} has no sampling plan")
    try:
        codes = plan_invitations(wave, made)
    except InvitationError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    # the file first: codes stored but never written would be lost to everyone
    with click.open_file(output, "w", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["wave", "district", "street", "code"])
        writer.writerows([wave.label, *row] for row in codes)
    audit.record(None, "invitations.generate", f"wave:{wave.id}",
                 f"{len(codes)} codes to the sampling plan")
    db.session.commit()
    click.echo(f"{len(codes)} codes for wave {wave.label}", err=output == "-")


commands = [plan]
