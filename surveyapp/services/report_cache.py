"""Built reports, cached per wave, district, language, format and data version.

The data version is a digest of everything a report depends on: the responses of the wave and
of the earlier waves it is compared with (count and latest submission), the set of excluded
responses, the margin sets and the set each of those waves is pinned to, the district and street
names, the questionnaire versions, the suppression limit and the code that computes and lays out
reports. A new response, an exclusion or re-inclusion, an uploaded margin set or a changed pin
gives a new version, so the report is rebuilt; otherwise the file is served from the shared
store (surveyapp.storage: every web host and worker sees one copy). The analysis of a wave is
also kept in memory for the latest version, so that the three formats and the 16 district
reports share one analysis.

Web requests never build: ``serve`` gives the stored file of the current version, or queues a
job (surveyapp.services.jobs) and says so. One job builds a report's content once and stores
every edition of it: the bureau page's content (``PAGE``: the report as JSON, charts included,
from which any web host renders the page and serves its charts) and the PDF, Excel and CSV
files. While a wave is open it serves the last built edition at once, labelled with the time and
response count of its data, and queues a rebuild only once that edition is older than
SURVEYAPP_REPORT_REFRESH_MINUTES; when a wave closes, the workers build all of its reports
(``build_closed_waves``) before anyone asks.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from flask import current_app

import analysis as analysis_package
from surveyapp.extensions import db
from surveyapp.models.jobs import Job
from surveyapp.models.margins import MarginRow, MarginSet
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import District, Response, Street, Wave, as_utc, utcnow
from surveyapp.reports.content_json import decode_report, encode_report
from surveyapp.reports.model import Language, Report
from surveyapp.services.reporting import (
    ReportInputs,
    city_report,
    district_report,
    report_inputs,
    suppress_below,
)
from surveyapp.services.wave_results import earlier_waves
from surveyapp.storage import app_store

if TYPE_CHECKING:  # surveyapp.services.jobs imports the queue: loaded when a job runs
    from surveyapp.services.jobs import JobProgress

# Each format's builder (module, function), imported when a file is built: fpdf and openpyxl
# take most of a second to import, which every command and worker start would pay otherwise.
BUILDERS: dict[str, tuple[str, str]] = {
    "pdf": ("surveyapp.reports.pdf", "build_pdf"),
    "xlsx": ("surveyapp.reports.excel", "build_workbook"),
    "csv": ("surveyapp.reports.csv", "build_csv"),
}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",  # one CSV file per table and a README (surveyapp.reports.csv)
}
EXTENSIONS = {"pdf": "pdf", "xlsx": "xlsx", "csv": "zip"}
CITY_KEY = "city"
_INPUT_SLOTS = 2  # analysed waves (a 100k wave with its earlier wave: ~200 MB)
_REPORT_SLOTS = 40  # report contents (charts included: ~0.3 MB each)
_inputs: OrderedDict[tuple, ReportInputs] = OrderedDict()
_reports: OrderedDict[tuple, Report] = OrderedDict()
_pages: OrderedDict[tuple, Report] = OrderedDict()  # decoded page editions, per build
_lock = threading.RLock()
T = TypeVar("T")


def _code_digest() -> str:
    """Digest of the code behind a report (analysis, report services, builders), so that an
    upgrade rebuilds cached reports without anyone remembering to bump a version number."""
    package = Path(__file__).resolve().parent.parent
    analysis = Path(analysis_package.__file__).resolve().parent
    # Every service (the report's sections, the wave snapshot reader) and the query layer.
    sources = sorted([*(package / "reports").glob("*.py"), *analysis.glob("*.py"),
                      *(package / "services").glob("*.py"), package / "queries.py"])
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


CODE_DIGEST = _code_digest()
# The edition the bureau page and its charts are drawn from. Its name carries the code's digest:
# content stored by other code may not fit this code's classes and templates, so while a wave
# is open a page is served at once only from a build of this code (files: from any).
PAGE = f"page-{CODE_DIGEST[:12]}"
EDITIONS: tuple[str, ...] = (PAGE, *BUILDERS)


def data_version(wave: Wave) -> str:
    """A digest that changes whenever anything behind the wave's reports changes."""
    wave_ids = [wave.id, *(w.id for w in earlier_waves(wave))]
    responses = db.session.execute(
        sa.select(Response.wave_id, sa.func.count(Response.id), sa.func.max(Response.submitted_at))
        .where(Response.wave_id.in_(wave_ids)).group_by(Response.wave_id).order_by(Response.wave_id)
    ).all()
    excluded = db.session.scalars(
        sa.select(QualityFlag.response_id)
        .join(Response, Response.id == QualityFlag.response_id)
        .where(Response.wave_id.in_(wave_ids), QualityFlag.excluded)
        .distinct().order_by(QualityFlag.response_id)
    ).all()
    margins = db.session.execute(
        sa.select(MarginSet.id, MarginSet.name, MarginSet.is_demo, sa.func.count(MarginRow.id),
                  sa.func.sum(MarginRow.count))
        .outerjoin(MarginRow).group_by(MarginSet.id).order_by(MarginSet.id)
    ).all()
    names = db.session.execute(
        sa.select(District.code, District.name_zh, District.name_en).order_by(District.code)
    ).all() + db.session.execute(
        sa.select(Street.code, Street.name_zh, Street.name_en).order_by(Street.code)
    ).all()
    waves = db.session.scalars(sa.select(Wave).where(Wave.id.in_(wave_ids)).order_by(Wave.id))
    facts = {
        "code": CODE_DIGEST,
        "responses": [[w, n, str(last)] for w, n, last in responses],
        "excluded": hashlib.sha256("\n".join(excluded).encode()).hexdigest(),
        "margins": [list(map(str, row)) for row in margins],
        "names": hashlib.sha256(json.dumps([list(r) for r in names]).encode()).hexdigest(),
        "waves": [[w.id, w.label, w.questionnaire_version.content_hash, str(w.opens_at),
                   str(w.closes_at), w.margin_set_id] for w in waves],
        "suppress_below": suppress_below(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class StoredReport:
    """A built report file and the data it was built from."""

    document: bytes
    version: str
    built_at: datetime
    responses: int  # the wave's responses at the time


def report_document(wave: Wave, district: str | None, lang: Language, fmt: str,
                    margins: str | None = None) -> bytes:
    """The report file of ``district`` (None: the city report), built now unless stored."""
    version = data_version(wave)
    stored = stored_report(wave, district, lang, fmt, margins)
    if stored is not None and stored.version == version:
        return stored.document
    return build_report(wave, district, lang, (fmt,), margins, version)[fmt].document


def serve(wave: Wave, district: str | None, lang: Language, fmt: str, margins: str | None = None,
          user_id: int | None = None, retry: bool = False) -> StoredReport | Job:
    """What a web request gets at once: a stored edition (``fmt``: a file format or ``PAGE``),
    or the job that is building it.

    The edition of the current data version when there is one. Otherwise, while the wave is
    open, the last one built (rebuilt in the background once it is older than the refresh
    interval); a closed wave's reports are final, so a reader waits for the current one.
    """
    version = data_version(wave)
    stored = stored_report(wave, district, lang, fmt, margins)
    if stored is not None and stored.version == version:
        return stored
    refresh = timedelta(minutes=current_app.config["SURVEYAPP_REPORT_REFRESH_MINUTES"])
    if stored is not None and wave.is_open() and utcnow() - stored.built_at < refresh:
        return stored
    job = submit_report(wave, district, lang, margins, version, user_id, retry)
    if job.state == "done":  # immediate mode, or built by another host meanwhile
        current = stored_report(wave, district, lang, fmt, margins)
        if current is None or current.version != version:  # built, then lost by the store
            job = submit_report(wave, district, lang, margins, version, user_id,
                                result_lost=True)
            current = stored_report(wave, district, lang, fmt, margins) \
                if job.state == "done" else None
        stored = current or stored
    if stored is not None and (wave.is_open() or job.state == "done"):
        return stored
    return job


def submit_report(wave: Wave, district: str | None, lang: Language, margins: str | None,
                  version: str, user_id: int | None = None, retry: bool = False,
                  result_lost: bool = False) -> Job:
    """The job building every edition of this report for this data version (one per version,
    on every host: the page, its charts and the three files share one build)."""
    from surveyapp.services.jobs import submit

    params = {"wave_id": wave.id, "district": district, "lang": lang, "margins": margins}
    return submit("report", params, key=f"report:{_slot(wave, district, lang, margins)}:"
                                        f"{version[:24]}", user_id=user_id, retry=retry,
                  result_lost=result_lost)


def run_report_job(params: dict, progress: JobProgress) -> str:
    """The worker's side of ``submit_report``: build the report of the data as they are now,
    the page first (readers wait for it most), then the files; ``progress`` counts them."""
    from surveyapp.services.jobs import JobFailed

    wave = db.session.get(Wave, params["wave_id"])
    if wave is None:
        raise JobFailed("测评批次已删除 / the wave no longer exists")
    try:
        build_report(wave, params["district"], params["lang"], tuple(EDITIONS),
                     params["margins"], data_version(wave), progress)
    except ValueError as error:  # ReportError, or a wave with no responses left
        raise JobFailed(str(error)) from error
    return _slot(wave, params["district"], params["lang"], params["margins"])


def build_closed_waves(now: datetime | None = None) -> list[int]:
    """Queue every report of each wave closed in the last week whose reports are not final yet.

    A marker in the store records that a wave's final reports were queued, so each closing is
    handled once, by whichever worker sees it first (the job keys make a second one harmless).
    """
    now = as_utc(now or utcnow())
    store = app_store()
    waves = db.session.scalars(sa.select(Wave).where(
        Wave.closes_at <= now, Wave.closes_at > now - timedelta(days=7)).order_by(Wave.id)).all()
    queued = []
    for wave in waves:
        marker = f"reports/w{wave.id}/final"
        if store.get(marker) is not None:
            continue
        store.put(marker, now.isoformat().encode())
        version = data_version(wave)
        for district in [None, *(d.code for d in wave.districts)]:
            for lang in ("zh", "en"):
                submit_report(wave, district, lang, None, version)
        queued.append(wave.id)
    return queued


def builder(edition: str) -> Callable[[Report], bytes]:
    """The function that makes ``edition`` of a report: the page's content, or a file format
    (a key of BUILDERS)."""
    if edition == PAGE:
        return encode_report
    module, name = BUILDERS[edition]
    return getattr(importlib.import_module(module), name)


def build_report(wave: Wave, district: str | None, lang: Language, editions: Sequence[str],
                 margins: str | None, version: str, progress: JobProgress | None = None
                 ) -> dict[str, StoredReport]:
    """Build the report's content once and each of ``editions`` from it (a file format or
    ``PAGE``), each put in the store, then the report's entry pointed at it, as it is done
    (``progress`` hears each edition)."""
    report = cached_report(wave, district, lang, margins, version,
                           charts=any(edition != "csv" for edition in editions))
    responses = db.session.scalar(sa.select(sa.func.count(Response.id))
                                  .where(Response.wave_id == wave.id)) or 0
    built_at, built = datetime.now(UTC), {}
    if progress is not None:
        progress.set_total(len(editions))
    for edition in editions:
        built[edition] = StoredReport(builder(edition)(report), version, built_at, responses)
        _put(_slot(wave, district, lang, margins), edition, built[edition])
        if progress is not None:
            progress.advance(1)
    return built


def stored_report(wave: Wave, district: str | None, lang: Language, fmt: str,
                  margins: str | None) -> StoredReport | None:
    """The last file built of this report, whatever its data version; None if none is."""
    store = app_store()
    for _retry in range(3):  # the file may be replaced between reading the entry and the file
        facts = stored_facts(wave, district, lang, fmt, margins)
        if facts is None:
            return None
        document = store.get(facts["object"])
        if document is not None:
            return StoredReport(document, facts["version"], facts["built_at"],
                                facts["responses"])
    return None


def stored_facts(wave: Wave, district: str | None, lang: Language, fmt: str,
                 margins: str | None = None) -> dict | None:
    """When the last file of this report was built and on how many responses (no file read)."""
    entry = app_store().get(f"{_slot(wave, district, lang, margins)}/{fmt}.json")
    if entry is None:
        return None
    facts = json.loads(entry)
    return {**facts, "built_at": datetime.fromisoformat(facts["built_at"])}


def _put(slot: str, fmt: str, built: StoredReport) -> None:
    """The file under a key of its version, then the entry naming it, then older files go."""
    store = app_store()
    name = f"{slot}/{fmt}-{built.version[:24]}"
    store.put(name, built.document)
    store.put(f"{slot}/{fmt}.json", json.dumps({
        "object": name, "version": built.version, "built_at": built.built_at.isoformat(),
        "responses": built.responses}).encode())
    for stale in store.keys(f"{slot}/{fmt}-"):
        if stale != name:
            store.delete(stale)


def page_content(wave: Wave, district: str | None, lang: Language, stored: StoredReport
                 ) -> Report:
    """The report content of a stored page edition, decoded once per build and kept in
    memory, so that the page and its charts do not decode it again."""
    key = (current_app.instance_path, _slot(wave, district, lang, None), stored.version,
           stored.built_at)
    return _remember(_pages, key, _REPORT_SLOTS, lambda: decode_report(stored.document))


def last_page_content(wave: Wave, district: str | None, lang: Language) -> Report | None:
    """The content of the last page built of this report, whatever its data version (the
    charts of a page the reader has: never a build of their own); None if none was built."""
    stored = stored_report(wave, district, lang, PAGE, None)
    return None if stored is None else page_content(wave, district, lang, stored)


def cached_report(wave: Wave, district: str | None, lang: Language, margins: str | None = None,
                  version: str | None = None, charts: bool = True) -> Report:
    """The report content of the current data version, kept in memory so that the PDF and the
    workbook of one report share it, and all reports of a wave share one analysis."""
    version = version or data_version(wave)
    key = (current_app.instance_path, wave.id, district, lang, margins, version, charts)

    def build() -> Report:
        inputs = cached_inputs(wave, margins, version)
        if district is None:
            return city_report(inputs, lang, charts)
        return district_report(inputs, district, lang, suppress_below(), charts)

    return _remember(_reports, key, _REPORT_SLOTS, build)


def cached_inputs(wave: Wave, margins: str | None = None, version: str | None = None
                  ) -> ReportInputs:
    """The analysed wave (and its earlier waves) of the current data version, shared by every
    report of the wave and by the small-area API."""
    version = version or data_version(wave)
    return _remember(_inputs, (current_app.instance_path, wave.id, margins, version),
                     _INPUT_SLOTS, lambda: report_inputs(wave, margins))


def _remember(memory: OrderedDict, key: tuple, slots: int, make: Callable[[], T]) -> T:
    """A small least-recently-used memory: ``make()`` unless ``key`` is remembered.

    One lock for all of it: server threads asking for the same wave wait for one analysis
    instead of each starting their own.
    """
    with _lock:
        if key in memory:
            memory.move_to_end(key)
            return memory[key]
        value = memory[key] = make()
        while len(memory) > slots:
            memory.popitem(last=False)
        return value


def _slot(wave: Wave, district: str | None, lang: str, margins: str | None) -> str:
    """The store prefix of one report, e.g. ``reports/w3/310109-zh-auto``."""
    margin_key = hashlib.sha256(margins.encode()).hexdigest()[:8] if margins else "auto"
    return f"reports/w{wave.id}/{district or CITY_KEY}-{lang}-{margin_key}"


def download_name(wave: Wave, district: str | None, lang: str, fmt: str) -> str:
    """The file name offered to the browser, e.g. ``report-2024-310109-zh.pdf``; the CSV
    edition is a zip (``report-2024-310109-zh-csv.zip``)."""
    label = re.sub(r"[^A-Za-z0-9.-]+", "_", wave.label)  # ASCII: safe in any HTTP header
    kind = "-csv" if fmt == "csv" else ""
    return f"report-{label}-{district or CITY_KEY}-{lang}{kind}.{EXTENSIONS[fmt]}"
