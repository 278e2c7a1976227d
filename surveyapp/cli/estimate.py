"""``surveyapp estimate SPEC``: run an estimate spec, print it, record it; ``--rerun ID``.

A rerun is a job (surveyapp.services.run_jobs), as the API's are: with the embedded SQLite queue
the command runs it in its own process unless told to wait for a worker, with Redis it waits for
the workers; either way it follows the job with a progress bar. The statistics stack is imported
when the command runs, so other commands start fast. Errors are in the terminal's language
(surveyapp.cli.language); the table and summary stay English.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask_babel import gettext as _

from surveyapp.cli.language import with_appcontext_in_language
from surveyapp.cli.progress import StageProgress, follow_job
from surveyapp.config import terminal_language
from surveyapp.exports import RESULT_SUFFIXES

EXIT_DIFFERS = 3


@click.command("estimate")
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False))
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help=f"Also write the results to FILE ({', '.join(RESULT_SUFFIXES)}).")
@click.option("--rerun", "rerun_id", type=int, default=None,
              help="Recompute a recorded run (a job, followed until done); exit 0 when "
                   f"identical, {EXIT_DIFFERS} with what changed otherwise.")
@click.option("--run-here/--wait-for-worker", "run_here", default=None,
              help="With --rerun: run the job in this process (the default with the embedded "
                   "SQLite queue, where no worker may be running; a worker that takes it first "
                   "runs it instead), or wait for a `surveyapp worker` to run it (the default "
                   "with a Redis queue). Either way a progress bar follows it.")
@with_appcontext_in_language
def estimate(spec_file: str | None, output: str | None, rerun_id: int | None,
             run_here: bool | None) -> None:
    """Estimate what SPEC (YAML or JSON) asks for, print a table and record the run."""
    from surveyapp.exports.results import format_table
    from surveyapp.extensions import db
    from surveyapp.services.estimation import EstimationError, record_run, run_spec
    from surveyapp.specs import SpecError, load_spec

    if (spec_file is None) == (rerun_id is None):
        raise click.UsageError(_("give either a SPEC file or --rerun RUN_ID"))
    if run_here is not None and rerun_id is None:
        raise click.UsageError("--run-here/--wait-for-worker: " + _("only with --rerun"))
    if output and not output.lower().endswith(RESULT_SUFFIXES):
        raise click.UsageError("--output: " + _("expected a file ending in %(suffixes)s",
                                                suffixes=", ".join(RESULT_SUFFIXES)))
    if rerun_id is not None:
        _rerun(rerun_id, output, run_here)
        return
    with StageProgress(_("Reading and weighting the responses…"), _("estimating"),
                       _("table")) as progress:
        try:
            spec = load_spec(spec_file)
            outcome = run_spec(spec, progress=progress.advance, on_total=progress.set_total)
        except SpecError as error:
            db.session.rollback()
            raise click.ClickException(_("invalid spec:") + "\n" + "\n".join(error.problems)
                                       ) from error
        except EstimationError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
    run = record_run(spec, outcome, created_by="cli")
    db.session.commit()
    click.echo(format_table(outcome.results))
    _echo_designs(outcome.results)
    click.echo("\n" + _("run %(id)d: %(count)d responses, data hash %(hash)s; rerun with "
                        "`surveyapp estimate --rerun %(id)d`", id=run.id,
                        count=outcome.response_count, hash=run.data_hash[:16]))
    _write(outcome.results, output, run)


def _rerun(run_id: int, output: str | None, run_here: bool | None) -> None:
    """Submit the rerun job, follow it, print the rerun's table and the comparison."""
    from surveyapp.exports.results import format_table
    from surveyapp.extensions import db
    from surveyapp.models.runs import EstimateRun
    from surveyapp.queue import needs_worker
    from surveyapp.services.jobs import failure_reason
    from surveyapp.services.run_jobs import rerun_comparison, submit_rerun

    run = db.session.get(EstimateRun, run_id)
    if run is None:
        raise click.ClickException("--rerun: " + _("no estimate run %(id)d", id=run_id))
    job = submit_rerun(run, None, terminal_language())
    here = not needs_worker() if run_here is None else run_here
    stage = _("Reading and weighting the responses…") if here else _(
        "Job %(id)d is queued until a worker (`surveyapp worker`) takes it…", id=job.id)
    job = follow_job(job.id, here and job.state == "queued", stage, _("estimating"), _("table"))
    if job.state == "failed":
        reason = failure_reason(job)
        raise click.ClickException((_("invalid spec:") + "\n" + reason)
                                   if job.failure == "invalid" else reason)
    comparison = rerun_comparison(job)
    if comparison is None:
        raise click.ClickException("--rerun: " + _("the comparison is gone"))
    click.echo(format_table(comparison["results"]))
    _echo_designs(comparison["results"])
    click.echo("")
    click.echo(comparison["summary"])
    _write(comparison["results"], output, run)
    if not comparison["identical"]:
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
