"""``surveyapp estimate SPEC``: run an estimate spec, print it, record it; ``--rerun ID``.

The statistics stack is imported when the command runs, so other commands start fast. Errors
are in the terminal's language (surveyapp.cli.language); the table and summary stay English.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask_babel import gettext as _

from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.cli.progress import StageProgress
from surveyapp.exports import RESULT_SUFFIXES

EXIT_DIFFERS = 3


@click.command("estimate")
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False))
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help=f"Also write the results to FILE ({', '.join(RESULT_SUFFIXES)}).")
@click.option("--rerun", "rerun_id", type=int, default=None,
              help="Recompute a recorded run; exit 0 when identical, "
                   f"{EXIT_DIFFERS} with what changed otherwise.")
@with_appcontext_in_language
def estimate(spec_file: str | None, output: str | None, rerun_id: int | None) -> None:
    """Estimate what SPEC (YAML or JSON) asks for, print a table and record the run."""
    from surveyapp.exports.results import format_table
    from surveyapp.extensions import db
    from surveyapp.models.runs import EstimateRun
    from surveyapp.services.estimation import EstimationError, record_run, rerun, run_spec
    from surveyapp.specs import SpecError, load_spec

    if (spec_file is None) == (rerun_id is None):
        raise click.UsageError(_("give either a SPEC file or --rerun RUN_ID"))
    if output and not output.lower().endswith(RESULT_SUFFIXES):
        raise click.UsageError("--output: " + _("expected a file ending in %(suffixes)s",
                                                suffixes=", ".join(RESULT_SUFFIXES)))
    with StageProgress(_("Reading and weighting the responses…"), _("estimating"),
                       _("table")) as progress:
        advance, set_total = progress.advance, progress.set_total
        try:
            if rerun_id is not None:
                run = db.session.get(EstimateRun, rerun_id)
                if run is None:
                    raise click.ClickException("--rerun: " + _("no estimate run %(id)d",
                                                               id=rerun_id))
                report = rerun(run, progress=advance, on_total=set_total)
            else:
                spec = load_spec(spec_file)
                outcome = run_spec(spec, progress=advance, on_total=set_total)
        except SpecError as error:
            db.session.rollback()
            raise click.ClickException(_("invalid spec:") + "\n" + "\n".join(error.problems)
                                       ) from error
        except EstimationError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
    if rerun_id is not None:
        _finish_rerun(report, output)
        return
    run = record_run(spec, outcome, created_by="cli")
    db.session.commit()
    click.echo(format_table(outcome.results))
    _echo_designs(outcome.results)
    click.echo("\n" + _("run %(id)d: %(count)d responses, data hash %(hash)s; rerun with "
                        "`surveyapp estimate --rerun %(id)d`", id=run.id,
                        count=outcome.response_count, hash=run.data_hash[:16]))
    _write(outcome.results, output, run)


def _finish_rerun(report, output: str | None) -> None:
    from surveyapp.exports.results import format_table

    click.echo(format_table(report.outcome.results))
    _echo_designs(report.outcome.results)
    click.echo("")
    click.echo(report.summary())
    _write(report.outcome.results, output, report.run)
    if not report.identical:
        sys.exit(EXIT_DIFFERS)


def _echo_designs(results: dict) -> None:
    """Say, per wave, whether the wave's declared design was used or the spec overrode it."""
    for label, note in sorted(results["waves"].items()):
        design = note.get("design")
        if design is None:  # a run recorded before waves declared their design
            continue
        if design["source"] == "wave":
            click.echo(_("wave %(label)s: the wave's declared sample design %(design)s "
                         "(lonely PSU: %(lonely)s)", label=label, design=design["declared"],
                         lonely=design["lonely_psu"]))
        else:
            click.echo(_("wave %(label)s: the spec's design (strata %(strata)s, psu %(psu)s, "
                         "lonely PSU %(lonely)s) overrides the wave's declared design "
                         "%(design)s", label=label, strata=design["strata"], psu=design["psu"],
                         lonely=design["lonely_psu"], design=design["declared"]))


def _write(results: dict, output: str | None, run) -> None:
    from surveyapp.exports.results import write_results
    from surveyapp.extensions import db
    from surveyapp.services.audit import record_download

    if not output:
        return
    info = {"run_id": run.id, "data_hash": run.data_hash, "package_version": run.package_version,
            "spec": run.spec_json}
    try:
        paths = write_results(results, output, info)
    except OSError as error:
        raise click.ClickException("--output: " + _("cannot write %(path)s: %(error)s",
                                                    path=output, error=error)) from error
    record_download(None, "run", f"run:{run.id}", format=Path(output).suffix.lstrip("."),
                    via="cli")
    db.session.commit()
    click.echo("wrote " + ", ".join(str(p) for p in paths))


commands = [estimate]
