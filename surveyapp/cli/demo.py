"""``surveyapp demo``: a ready-to-try service with two years of synthetic survey data.

The data stack is imported when the command runs, so that `surveyapp --help` stays fast.
"""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

HOST, PORT = "127.0.0.1", 5000


@click.command("demo")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the app on http://127.0.0.1:5000 after preparing the data.")
@click.option("--seed", type=int, default=2024, show_default=True,
              help="Seed of the synthetic data: the same seed gives the same data.")
@click.option("--per-district", type=click.IntRange(1, 5000), default=None,
              help="Responses per district and citizen wave (default: 150-300 at random).")
@with_appcontext
def demo(serve: bool, seed: int, per_district: int | None) -> None:
    """Build the database, load questionnaires and geography, add demo waves and margins, serve.

    Existing demo waves and margins are kept as they are (never duplicated or rebuilt); delete
    the database to start afresh.
    """
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from surveyapp.services.catalog import sync_catalog
    from surveyapp.services.demo import DemoError

    started = time.perf_counter()
    upgrade()
    try:
        sync_catalog(current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
        db.session.commit()
        _prepare(seed, per_district)
    except DemoError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Demo data ready in {time.perf_counter() - started:.1f} s "
               f"({current_app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}).")
    if serve:
        _serve()


def _prepare(seed: int, per_district: int | None) -> None:
    """One transaction per wave, then one for the margins and the citizen waves' pins."""
    import numpy as np
    from tqdm import tqdm

    from surveyapp.extensions import db
    from surveyapp.models.survey import utcnow
    from surveyapp.services.demo import (
        DemoWorld,
        build_demo_wave,
        demo_districts,
        demo_waves,
        ensure_demo_margins,
        pin_demo_waves,
    )

    districts = demo_districts()
    world = DemoWorld(seed, [d.code for d in districts])
    for index, spec in enumerate(demo_waves(utcnow())):
        rng = np.random.default_rng([seed, 10 + index])
        with tqdm(total=len(districts) + 1, unit="step",
                  desc=f"{spec.questionnaire_key} {spec.label}") as bar:
            outcome = build_demo_wave(spec, world, districts, per_district, rng, bar.update)
            db.session.commit()
        if outcome.status == "created":
            click.echo(f"  wave {outcome.label} ({outcome.questionnaire_key}): "
                       f"{outcome.responses} responses created, sample design "
                       f"{spec.sample_design} (lonely PSU {spec.lonely_psu})")
        else:
            click.echo(f"  wave {outcome.label} ({outcome.questionnaire_key}): "
                       "already present, kept unchanged")
    margin_set, created = ensure_demo_margins(districts)
    pinned = pin_demo_waves(margin_set, utcnow())
    db.session.commit()
    click.echo(f"  margins '{margin_set.name}' (demo figures, not official statistics): "
               + ("created" if created else "already present, kept unchanged"))
    if pinned:
        click.echo(f"  citizen waves {', '.join(pinned)} pinned to '{margin_set.name}' "
                   "(change it under Administration, 权重边际 Margins)")
    click.echo("  latent satisfaction index (PLS path model, importance-performance matrix): in "
               "each citizen report, and `surveyapp index --wave 2024 --questionnaire citizen`")
    _prepare_indicators()
    _prepare_plan([d.code for d in districts])
    _prepare_accounts()


def _prepare_indicators() -> None:
    """Invented administrative indicators for the composite index of the 2024 citizen wave."""
    from surveyapp.extensions import db
    from surveyapp.services.demo_indicators import ensure_demo_indicators

    indicator_set, created = ensure_demo_indicators(
        current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"])
    db.session.commit()
    if indicator_set is not None:
        click.echo(f"  indicators '{indicator_set.name}' (invented demo figures, not official "
                   "statistics): " + ("created" if created else "already present, kept "
                                      "unchanged") + "; see /admin/composite")


def _prepare_plan(district_codes: list[str]) -> None:
    """A scheduled wave with a sampling plan (invented street populations)."""
    from surveyapp.extensions import db
    from surveyapp.models.survey import utcnow
    from surveyapp.services.demo import DemoError
    from surveyapp.services.demo_plan import ensure_demo_plan
    from surveyapp.services.plans import PlanError

    try:
        wave, plan, created = ensure_demo_plan(current_app.config["SURVEYAPP_QUESTIONNAIRE_DIR"],
                                               district_codes, utcnow())
    except PlanError as error:
        raise DemoError(str(error)) from error
    db.session.commit()
    drawn = sum(r.selected for r in plan.streets)
    click.echo(f"  wave {wave.label} (citizen, by invitation, scheduled): sampling plan "
               f"{plan.total} responses, {plan.method}, {drawn} of {len(plan.streets)} streets "
               f"drawn ({plan.selection}; invented populations) "
               + ("created" if created else "already present, kept unchanged")
               + f"; see /admin/waves/{wave.id}/plan or `surveyapp plan show --wave {wave.label}"
               " --questionnaire citizen`")


def _prepare_accounts() -> None:
    """Staff logins for the bureau and admin pages; new passwords are shown only this once."""
    from surveyapp.extensions import db
    from surveyapp.services.demo_accounts import ensure_demo_accounts

    accounts = ensure_demo_accounts()
    db.session.commit()
    click.echo("  staff accounts (sign in at http://127.0.0.1:5000/auth/login):")
    for account in accounts:
        scope = ",".join(account.districts)
        secret = (f"password {account.password}" if account.password
                  else "exists, password unchanged (surveyapp user set-password to reset)")
        click.echo(f"    {account.username:<14} {account.role:<8} {scope:<7} {secret}")


def _serve() -> None:
    from werkzeug.serving import run_simple

    from surveyapp.gc_safepoints import collect_only_at_safe_points
    from surveyapp.worker import start_embedded_worker

    app = current_app._get_current_object()
    collect_only_at_safe_points()  # request threads (and job threads) share this process
    if app.config["SURVEYAPP_QUEUE_URL"] != "immediate":
        start_embedded_worker(app)  # reports build in the background without another process
    click.echo(f"\n  Serving the demo on http://{HOST}:{PORT}/  (press Ctrl+C to stop)\n")
    run_simple(HOST, PORT, app, threaded=True,
               use_reloader=False, use_debugger=False)


commands = [demo]
