"""``surveyapp invitations letters|posters``: printable PDFs of invitation letters and posters.

The database keeps only hashes of invitation codes, so ``letters`` generates the codes it
prints (and, with --csv, writes them as the admin page's CSV too): these files are their only
copies, which is why an existing file is never overwritten.
"""
from __future__ import annotations

from pathlib import Path

import click

from surveyapp.cli.language import with_appcontext_in_language

OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group("invitations")
def invitations() -> None:
    """Invitation letters and street posters (PDF)."""


@invitations.command("letters")
@click.option("--wave", "wave_label", required=True, help="Wave label, e.g. 2025.")
@click.option("--district", required=True, help="District code, e.g. 310109.")
@click.option("--street", help="Street code, when the codes are for one street only.")
@click.option("--count", required=True, type=click.IntRange(1, 100_000),
              help="Number of new codes (one letter each).")
@click.option("--questionnaire", help="Questionnaire key, when several waves share the label.")
@click.option("--out", type=OUT, help="PDF to write (default invitations-WAVE-DISTRICT.pdf).")
@click.option("--csv", "csv_out", type=OUT, help="Also write the codes as CSV to this file.")
@with_appcontext_in_language
def letters(wave_label: str, district: str, street: str | None, count: int,
            questionnaire: str | None, out: Path | None, csv_out: Path | None) -> None:
    """Generate COUNT codes and print them as letters, two to an A4 page.

    Links use SURVEYAPP_PUBLIC_URL. Recorded in the audit log (actor "cli")."""
    from surveyapp.extensions import db
    from surveyapp.models.survey import District, Street
    from surveyapp.reports.letters import build_letters
    from surveyapp.services import audit
    from surveyapp.services.invitation_letters import codes_csv, invitation_letters
    from surveyapp.services.invitations import InvitationError, generate_codes

    wave = _wave(wave_label, questionnaire)
    out = out or Path(f"invitations-{wave.id}-{district}{'-' + street if street else ''}.pdf")
    _refuse_existing(out, csv_out)
    try:
        codes = generate_codes(wave, district, count, street)
        pdf = build_letters(invitation_letters(
            wave, db.session.get(District, district),
            db.session.get(Street, street) if street else None, codes))
    except (InvitationError, RuntimeError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    out.write_bytes(pdf)
    if csv_out:
        csv_out.write_text(codes_csv(wave, district, street, codes), encoding="utf-8")
    audit.record(None, "invitations.generate", f"wave:{wave.id}",
                 f"{count} codes for {district} {street or ''}; letters via cli")
    db.session.commit()
    click.echo(f"{out}: {count} letters, {(count + 1) // 2} pages"
               + (f"; {csv_out}: {count} codes" if csv_out else ""))


@invitations.command("posters")
@click.option("--wave", "wave_label", required=True, help="Wave label of an open wave.")
@click.option("--district", help="District code; default every district of the wave.")
@click.option("--questionnaire", help="Questionnaire key, when several waves share the label.")
@click.option("--out", type=OUT, help="PDF to write (default posters-WAVE[-DISTRICT].pdf).")
@with_appcontext_in_language
def posters(wave_label: str, district: str | None, questionnaire: str | None,
            out: Path | None) -> None:
    """One A4 poster per street with the wave's QR code (open waves)."""
    from surveyapp.reports.posters import build_posters
    from surveyapp.services.invitation_letters import street_posters
    from surveyapp.services.invitations import InvitationError

    wave = _wave(wave_label, questionnaire)
    out = out or Path(f"posters-{wave.id}{'-' + district if district else ''}.pdf")
    try:
        notices = street_posters(wave, district)
        out.write_bytes(build_posters(notices))
    except (InvitationError, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{out}: {len(notices)} posters")


def _wave(label: str, questionnaire: str | None):
    from surveyapp.config import terminal_language
    from surveyapp.services.reporting import ReportError, find_wave

    try:
        return find_wave(label, questionnaire, terminal_language())
    except ReportError as error:
        raise click.ClickException(str(error)) from error


def _refuse_existing(*paths: Path | None) -> None:
    """A file of codes already there would be lost with its codes: never overwrite one."""
    for path in paths:
        if path is not None and path.exists():
            raise click.ClickException(f"{path}: 文件已存在，其中的邀请码将丢失 / exists; the "
                                       "codes in it would be lost: choose another file")


commands = [invitations]
