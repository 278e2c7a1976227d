"""Invitation letters and street posters: read back as a resident's phone would.

The QR codes are decoded from the rendered pages (pdftoppm + zbarimg, Debian's poppler-utils
and zbar-tools; skipped when missing) and followed in the test client: the code page, then
the form with the code filled in. Texts are read with pdftotext.
"""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from surveyapp.cli.invitations import invitations
from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog
from surveyapp.models.survey import District, InvitationCode, Street
from surveyapp.reports.letters import build_letters
from surveyapp.reports.posters import build_posters
from surveyapp.services.invitation_letters import invitation_letters, street_posters
from tests.web.factories import HONGKOU, form_fields, make_wave
from tests.web.staff_fixtures import login_as, make_user

PUBLIC = "https://survey.example.gov.cn"
HOSTILE = '<b>{nb}**区**</b>"); DROP TABLE x;--=cmd|'
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
needs_zbar = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                                reason="needs poppler-utils and zbar-tools (zbarimg)")


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEYAPP_PUBLIC_URL", PUBLIC)


def qr_codes(pdf: Path) -> list[list[str]]:
    """The QR codes' texts on each page of ``pdf``, sorted (zbarimg finds them in any order)."""
    pages = []
    for page in range(1, len(PdfReader(pdf).pages) + 1):
        png = subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l",
                              str(page), str(pdf)], capture_output=True, check=True).stdout
        found = subprocess.run(["zbarimg", "--quiet", "--raw", "-"], input=png,
                               capture_output=True, check=True).stdout.decode()
        pages.append(sorted(found.splitlines()))
    return pages


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def open_link(client, link: str) -> str:
    """What a phone shows after scanning ``link``: the code page, whose script fills in the
    code from the #fragment and posts it; returns the form page that follows."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    page = client.get(parts.path)
    assert page.status_code == 200
    fragment = dict(item.split("=", 1) for item in parts.fragment.split("&") if item)
    if "code" not in fragment:
        return page.get_data(as_text=True)
    assert 'id="code"' in page.get_data(as_text=True)
    form = client.post(f"{parts.path}/code", data={**form_fields(page.get_data(as_text=True)),
                                                   "code": fragment["code"]})
    assert form.status_code == 200
    return form.get_data(as_text=True)


def test_letters_command_prints_two_codes_a_page_that_open_the_form(
        app, client, runner, public_url, tmp_path):
    wave = make_wave(mode="invitation")
    out, codes_file = tmp_path / "letters.pdf", tmp_path / "codes.csv"

    result = runner.invoke(invitations, ["letters", "--wave", wave.label, "--district", HONGKOU,
                                         "--count", "3", "--out", str(out), "--csv",
                                         str(codes_file)])

    assert result.exit_code == 0, result.output
    assert len(PdfReader(out).pages) == 2
    rows = list(csv.DictReader(io.StringIO(codes_file.read_text(encoding="utf-8-sig"))))
    assert [r["url"] for r in rows] == [f"{PUBLIC}/s/{wave.id}#code={r['code']}" for r in rows]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationCode)) == 3
    text = pdf_text(out)
    for row in rows:
        assert text.count(row["code"]) == 1
    assert text.count(f"{PUBLIC}/s/{wave.id}") == 3
    for words in ("尊敬的居民", "Dear resident", "虹口区", "Hongkou", "邀请码", "Invitation code",
                  "北京时间 Beijing time"):
        assert words in text
    assert db.session.scalar(sa.select(AuditLog.action)) == "invitations.generate"
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        assert qr_codes(out) == [sorted(r["url"] for r in rows[:2]), [rows[2]["url"]]]
        for row in rows:
            assert form_fields(open_link(client, row["url"]))["code"] == row["code"]


def test_letters_never_overwrite_a_file_and_store_nothing_then(app, runner, public_url,
                                                               tmp_path):
    wave = make_wave(mode="invitation")
    out = tmp_path / "letters.pdf"
    out.write_bytes(b"earlier codes")

    result = runner.invoke(invitations, ["letters", "--wave", wave.label, "--district", HONGKOU,
                                         "--count", "2", "--out", str(out)])

    assert result.exit_code == 1 and "exists" in result.output
    assert out.read_bytes() == b"earlier codes"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationCode)) == 0


def test_letters_need_the_public_address_on_the_command_line(app, runner, tmp_path):
    wave = make_wave(mode="invitation")

    result = runner.invoke(invitations, ["letters", "--wave", wave.label, "--district", HONGKOU,
                                         "--count", "2", "--out", str(tmp_path / "l.pdf")])

    assert result.exit_code == 1 and "SURVEYAPP_PUBLIC_URL" in result.output
    assert not (tmp_path / "l.pdf").exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationCode)) == 0


@needs_zbar
def test_posters_one_per_street_with_the_waves_link(app, client, runner, public_url, tmp_path):
    wave = make_wave(mode="open")
    out = tmp_path / "posters.pdf"
    streets = db.session.scalars(sa.select(Street).where(Street.district_code == HONGKOU)).all()

    result = runner.invoke(invitations, ["posters", "--wave", wave.label, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert len(streets) > 1 and len(PdfReader(out).pages) == len(streets)
    assert qr_codes(out) == [[f"{PUBLIC}/s/{wave.id}"]] * len(streets)
    assert 'name="district"' in open_link(client, f"{PUBLIC}/s/{wave.id}")
    text = pdf_text(out)
    assert all(s.name_zh in text and s.name_en in text for s in streets)
    assert "扫码参加调查" in text and "Scan to take part" in text


@pytest.mark.parametrize(("mode", "is_open", "why"), [
    ("invitation", True, "print letters instead"), ("open", False, "is closed")])
def test_posters_are_for_open_waves_still_collecting(app, runner, public_url, tmp_path, mode,
                                                    is_open, why):
    wave = make_wave(mode=mode, open=is_open)
    result = runner.invoke(invitations, ["posters", "--wave", wave.label,
                                         "--out", str(tmp_path / "p.pdf")])
    assert result.exit_code == 1 and why in result.output
    assert not (tmp_path / "p.pdf").exists()


@needs_poppler
def test_hostile_place_names_print_as_they_are(app, public_url, tmp_path):
    wave = make_wave(mode="open")
    district = db.session.get(District, HONGKOU)
    street = district.streets[0]
    district.name_zh = district.name_en = street.name_zh = street.name_en = HOSTILE
    db.session.flush()
    (tmp_path / "letters.pdf").write_bytes(build_letters(invitation_letters(
        wave, district, street, ["ABCDE-FGHJK"])))
    (tmp_path / "posters.pdf").write_bytes(build_posters(street_posters(wave, HONGKOU)[:1]))

    for name in ("letters.pdf", "posters.pdf"):
        text = pdf_text(tmp_path / name).replace("\n", "")
        assert HOSTILE.replace(" ", "") in text.replace(" ", ""), name
        assert len(PdfReader(tmp_path / name).pages) == 1


def test_a_long_name_stays_inside_its_letter(app, public_url, tmp_path):
    wave = make_wave(mode="invitation")
    district = db.session.get(District, HONGKOU)
    district.name_zh = "很长的名字" * 16
    district.name_en = ("A Very Long Name " * 5)[:80]  # the column holds 80 characters
    letters = invitation_letters(wave, district, None, ["ABCDE-FGHJK", "KMNPQ-RSTVW"])
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(build_letters(letters))
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        assert len(qr_codes(pdf)[0]) == 2
    assert len(PdfReader(pdf).pages) == 1


@pytest.fixture
def admin_client(app, client):
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()
    return client


def csrf(client) -> str:
    import re

    page = client.get("/admin/").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_admin_downloads_letters_with_their_csv(app, admin_client, tmp_path):
    wave = make_wave(mode="invitation")
    street = db.session.get(District, HONGKOU).streets[0].code

    response = admin_client.post(f"/admin/waves/{wave.id}/invitations", data={
        "district": HONGKOU, "street": street, "count": "3", "letters": "1",
        "csrf_token": csrf(admin_client)})

    assert response.mimetype == "application/zip"
    name = f"invitations-{wave.id}-{HONGKOU}-{street}"
    with zipfile.ZipFile(io.BytesIO(response.data)) as zipped:
        assert sorted(zipped.namelist()) == [f"{name}.csv", f"{name}.pdf"]
        rows = list(csv.DictReader(io.StringIO(zipped.read(f"{name}.csv").decode("utf-8-sig"))))
        (tmp_path / "l.pdf").write_bytes(zipped.read(f"{name}.pdf"))
    assert len(rows) == 3 and {r["street"] for r in rows} == {street}
    assert len(PdfReader(tmp_path / "l.pdf").pages) == 2
    assert all(r["url"] == f"http://localhost/s/{wave.id}#code={r['code']}" for r in rows)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationCode)) == 3
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        found = [url for page in qr_codes(tmp_path / "l.pdf") for url in page]
        assert sorted(found) == sorted(r["url"] for r in rows)


def test_admin_downloads_posters_of_an_open_wave(app, admin_client):
    wave = make_wave(mode="open", districts=[HONGKOU, "310110"])
    whole = admin_client.get(f"/admin/waves/{wave.id}/posters.pdf")
    one = admin_client.get(f"/admin/waves/{wave.id}/posters.pdf?district={HONGKOU}")
    assert whole.mimetype == one.mimetype == "application/pdf"
    streets = {code: len(db.session.get(District, code).streets) for code in (HONGKOU, "310110")}
    assert len(PdfReader(io.BytesIO(whole.data)).pages) == sum(streets.values())
    assert len(PdfReader(io.BytesIO(one.data)).pages) == streets[HONGKOU]


def test_admin_posters_refused_for_an_invitation_wave(app, admin_client):
    wave = make_wave(mode="invitation")
    response = admin_client.get(f"/admin/waves/{wave.id}/posters.pdf", follow_redirects=True)
    assert "print letters instead" in response.get_data(as_text=True)


@pytest.mark.parametrize(("base", "link"), [
    ("https://survey.example.gov.cn", "https://survey.example.gov.cn/s/7#code=ABCDE-FGHJK"),
    ("https://www.example.gov.cn/survey", "https://www.example.gov.cn/survey/s/7#code=ABCDE-FGHJK"),
])
def test_links_use_the_public_address_in_and_outside_requests(app, monkeypatch, base, link):
    from surveyapp.survey_links import invitation_url

    monkeypatch.setitem(app.config, "SURVEYAPP_PUBLIC_URL", base)
    assert invitation_url(7, "ABCDE-FGHJK") == link
    with app.test_request_context("/admin/", base_url="http://intranet.local"):
        assert invitation_url(7, "ABCDE-FGHJK") == link


@pytest.mark.parametrize("value", ["survey.example.gov.cn", "ftp://x.cn", "https://x.cn/?a=1"])
def test_the_public_address_is_checked_at_start_up(monkeypatch, value):
    from surveyapp.config import load_config

    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "test-secret")
    monkeypatch.setenv("SURVEYAPP_PUBLIC_URL", value)
    with pytest.raises(ValueError, match="SURVEYAPP_PUBLIC_URL: expected an address"):
        load_config()
