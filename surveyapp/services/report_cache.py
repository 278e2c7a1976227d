"""Rendered reports, cached per wave, district, language, format and data version.

The data version is a digest of everything a report depends on: the responses of the wave and
of the earlier waves it is compared with (count and latest submission), the set of excluded
responses, the margin sets and the set each of those waves is pinned to, the district and street
names, the questionnaire versions, the suppression limit and the code that computes and lays out
reports. A new response, an exclusion or re-inclusion, an uploaded margin set or a changed pin
gives a new version, so the report is rebuilt; otherwise the file is served from
``<instance>/report_cache``. The analysis of a wave is also kept in memory for the latest
version, so that the three formats and the 16 district reports share one analysis.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

import analysis as analysis_package
from surveyapp.extensions import db
from surveyapp.models.margins import MarginRow, MarginSet
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import District, Response, Street, Wave
from surveyapp.private_files import private_dir
from surveyapp.reports.csv import build_csv
from surveyapp.reports.excel import build_workbook
from surveyapp.reports.model import Language, Report
from surveyapp.reports.pdf import build_pdf
from surveyapp.services.reporting import (
    ReportInputs,
    city_report,
    district_report,
    report_inputs,
    suppress_below,
)
from surveyapp.services.wave_results import earlier_waves

BUILDERS: dict[str, Callable[[Report], bytes]] = {
    "pdf": build_pdf, "xlsx": build_workbook, "csv": build_csv,
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
_lock = threading.RLock()
T = TypeVar("T")


def _code_digest() -> str:
    """Digest of the code behind a report (analysis, report services, builders), so that an
    upgrade rebuilds cached reports without anyone remembering to bump a version number."""
    package = Path(__file__).resolve().parent.parent
    analysis = Path(analysis_package.__file__).resolve().parent
    sources = sorted([*(package / "reports").glob("*.py"), *analysis.glob("*.py"),
                      package / "services" / "reporting.py", package / "services" / "wave_results.py",
                      package / "services" / "disclosure.py",
                      Path(__file__)])
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


CODE_DIGEST = _code_digest()


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


def report_document(wave: Wave, district: str | None, lang: Language, fmt: str,
                    margins: str | None = None) -> bytes:
    """The report file of ``district`` (None: the city report), from the cache when current."""
    version = data_version(wave)
    path = _cache_dir() / _file_name(wave, district, lang, fmt, margins, version)
    if path.exists():
        return path.read_bytes()
    report = cached_report(wave, district, lang, margins, version, charts=fmt != "csv")
    document = BUILDERS[fmt](report)
    _store(path, document)
    return document


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


def _cache_dir() -> Path:
    return private_dir(Path(current_app.config["SURVEYAPP_INSTANCE_PATH"]) / "report_cache")


def _file_name(wave: Wave, district: str | None, lang: str, fmt: str, margins: str | None,
               version: str) -> str:
    margin_key = hashlib.sha256((margins or "").encode()).hexdigest()[:8] if margins else "auto"
    return f"{_prefix(wave, district, lang, margin_key)}{version[:20]}.{fmt}"


def _prefix(wave: Wave, district: str | None, lang: str, margin_key: str) -> str:
    return f"w{wave.id}-{district or CITY_KEY}-{lang}-{margin_key}-"


def _store(path: Path, document: bytes) -> None:
    """Write atomically, then drop the same report's files of older data versions."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(document)
    os.replace(temporary, path)
    prefix = path.name[: path.name.rindex("-") + 1]
    for stale in path.parent.glob(f"{prefix}*{path.suffix}"):
        if stale != path:
            stale.unlink(missing_ok=True)


def download_name(wave: Wave, district: str | None, lang: str, fmt: str) -> str:
    """The file name offered to the browser, e.g. ``report-2024-310109-zh.pdf``; the CSV
    edition is a zip (``report-2024-310109-zh-csv.zip``)."""
    label = re.sub(r"[^A-Za-z0-9.-]+", "_", wave.label)  # ASCII: safe in any HTTP header
    kind = "-csv" if fmt == "csv" else ""
    return f"report-{label}-{district or CITY_KEY}-{lang}{kind}.{EXTENSIONS[fmt]}"
