"""What printed invitation letters and street posters say: the survey, the place, the links.

Letters need the plain codes, which exist only when they are generated (the database keeps
their keyed hashes, surveyapp.services.invitations): so letters are made from the codes just
generated, by the admin page (together with the CSV) or by ``surveyapp invitations letters``.
Posters are for open waves, whose one link anyone may use: one poster per street.
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from surveyapp.localtime import to_local, zone_label
from surveyapp.models.survey import District, Street, Wave, as_utc
from surveyapp.questionnaires import Text
from surveyapp.reports.notices import Invitation, Letters, Notice
from surveyapp.reports.safety import csv_text
from surveyapp.services.invitations import InvitationError
from surveyapp.survey_links import invitation_url, survey_url


def invitation_letters(wave: Wave, district: District, street: Street | None,
                       codes: list[str]) -> Letters:
    """The letters for ``codes``, just generated for ``district`` (and ``street``)."""
    return Letters(_notice(wave, district, street),
                   [Invitation(code, invitation_url(wave.id, code)) for code in codes])


def codes_csv(wave: Wave, district: str, street: str | None, codes: list[str]) -> str:
    """The codes as CSV text for Excel (with a BOM; cells made formula-safe), with each link."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["wave", "district", "street", "code", "url"])
    for code in codes:
        writer.writerow([csv_text(wave.label), district, street or "", code,
                         invitation_url(wave.id, code)])
    return "\ufeff" + out.getvalue()


def street_posters(wave: Wave, district_code: str | None = None) -> list[Notice]:
    """One notice per street of the wave's districts (or of ``district_code``).

    A district without streets in the geography gets one poster of its own."""
    if wave.mode != "open":
        raise InvitationError(f"wave: wave {wave.label} collects by invitation; a poster's "
                              "link would admit no one: print letters instead")
    if wave.status() == "closed":
        raise InvitationError(f"wave: wave {wave.label} is closed; its link takes no answers")
    districts = wave.districts
    if district_code is not None:
        districts = [d for d in districts if d.code == district_code]
        if not districts:
            raise InvitationError(f"district: {district_code} is not covered by wave "
                                  f"{wave.label}")
    return [_notice(wave, district, street) for district in districts
            for street in (district.streets or [None])]


def _notice(wave: Wave, district: District, street: Street | None) -> Notice:
    version = wave.questionnaire_version
    return Notice(
        title=Text(version.title_zh, version.title_en),
        district=Text(district.name_zh, district.name_en),
        street=Text(street.name_zh, street.name_en) if street else None,
        survey_url=survey_url(wave.id),
        first_day=to_local(wave.opens_at).date(),
        last_day=to_local(as_utc(wave.closes_at) - timedelta(microseconds=1)).date(),
        zone=zone_label(),
    )
