"""Configuration: the only module that reads ``os.environ``.

Every setting has a safe default so that ``surveyapp demo`` runs on a fresh machine with an
embedded SQLite database under ``instance/``.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from surveyapp.private_files import write_once

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def instance_path() -> Path:
    """Folder for the SQLite database, the generated secret key and cached reports."""
    return Path(os.environ.get("SURVEYAPP_INSTANCE_PATH", DEFAULT_INSTANCE)).resolve()


def _secret_key(instance: Path) -> str:
    """Use SURVEYAPP_SECRET_KEY, or generate one once and keep it in the instance folder."""
    configured = os.environ.get("SURVEYAPP_SECRET_KEY")
    if configured:
        return configured
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    return write_once(key_file, secrets.token_hex(32))  # created 0600, complete, once


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    """An integer setting within [low, high]; anything else stops start-up with its name."""
    text = os.environ.get(name, str(default)).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name}: expected a whole number from {low} to {high}; got {text!r}")
    return int(text)


def _time_zone() -> str:
    """SURVEYAPP_TIMEZONE, checked here so that a typo stops start-up, not every admin page."""
    name = os.environ.get("SURVEYAPP_TIMEZONE", "Asia/Shanghai")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"SURVEYAPP_TIMEZONE: unknown time zone {name!r} "
                         "(expected a tz database name such as Asia/Shanghai)") from error
    return name


def terminal_language() -> str:
    """'zh' or 'en': the language of command-line messages (and of scripts using the package).

    SURVEYAPP_LANG (zh or en) decides when set; otherwise the POSIX locale that governs
    messages (LC_ALL, else LC_MESSAGES, else LANG) gives English when it is an English one
    (en_US.UTF-8, en_GB ...) and Chinese in every other case, C and POSIX included. Read on
    each call, not at start-up, so that one process can serve commands in either language.
    """
    chosen = os.environ.get("SURVEYAPP_LANG", "").strip().lower()
    if chosen:
        if chosen not in ("zh", "en"):
            raise ValueError(f"SURVEYAPP_LANG：应为 zh 或 en / expected zh or en; got {chosen!r}")
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


RATE_LIMIT_DEFAULTS = {  # per client address; "N per minute;M per hour", as Flask-Limiter reads
    "SURVEYAPP_RATELIMIT_SURVEY": "10 per minute;100 per hour",  # survey form POSTs
    "SURVEYAPP_RATELIMIT_CODE": "10 per minute;60 per hour",  # invitation-code entries
    "SURVEYAPP_RATELIMIT_LOGIN": "10 per minute;60 per hour",  # staff sign-in POSTs
    "SURVEYAPP_RATELIMIT_API": "120 per minute",  # every API request
}


def _rate_limits() -> dict[str, Any]:
    """Flask-Limiter's settings and our limits, each limit checked so a typo stops start-up."""
    from limits import parse_many

    settings: dict[str, Any] = {}
    for name, default in RATE_LIMIT_DEFAULTS.items():
        value = os.environ.get(name, default)
        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(f"{name}: expected limits such as '10 per minute;100 per hour'; "
                             f"got {value!r}") from error
        settings[name] = value
    return {
        **settings,
        "RATELIMIT_ENABLED": os.environ.get("SURVEYAPP_RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_STORAGE_URI": os.environ.get("SURVEYAPP_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("SURVEYAPP_RATELIMIT_KEY_PREFIX", "surveyapp"),
        "RATELIMIT_STRATEGY": "sliding-window-counter",  # no double burst at a window's edge
        "RATELIMIT_SWALLOW_ERRORS": True,  # storage down: serve (and log), never lock out
    }


def _public_url() -> str:
    """SURVEYAPP_PUBLIC_URL without its trailing '/', checked here so a typo stops start-up."""
    value = os.environ.get("SURVEYAPP_PUBLIC_URL", "").strip().rstrip("/")
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc
                  or parts.query or parts.fragment):
        raise ValueError(f"SURVEYAPP_PUBLIC_URL: expected an address such as "
                         f"https://survey.example.gov.cn; got {value!r}")
    return value


def _proof_of_work() -> dict[str, Any]:
    """The optional proof-of-work of open waves (surveyapp.services.proof_of_work): off by
    default; SURVEYAPP_POW_MAX_NUMBER sets its work (the browser tries half of it on average)."""
    value = os.environ.get("SURVEYAPP_POW_MAX_NUMBER", "50000")
    if not value.isdigit() or not 1000 <= int(value) <= 10_000_000:
        raise ValueError(f"SURVEYAPP_POW_MAX_NUMBER: expected a whole number from 1000 to "
                         f"10000000; got {value!r}")
    return {"SURVEYAPP_POW_OPEN_WAVES": os.environ.get("SURVEYAPP_POW_OPEN_WAVES", "0") == "1",
            "SURVEYAPP_POW_MAX_NUMBER": int(value)}


def _jobs() -> dict[str, Any]:
    """The job queue (surveyapp.queue) and the timings of surveyapp.services.jobs."""
    return {
        "SURVEYAPP_QUEUE_URL": os.environ.get("SURVEYAPP_QUEUE_URL", ""),  # "": instance/queue.db
        # A running job whose worker has not renewed it for this long was lost and runs again.
        "SURVEYAPP_JOB_LEASE_SECONDS": _whole_number("SURVEYAPP_JOB_LEASE_SECONDS", 60, 1, 3600),
        # An open wave's report older than this is rebuilt in the background when data changed.
        "SURVEYAPP_REPORT_REFRESH_MINUTES": _whole_number(
            "SURVEYAPP_REPORT_REFRESH_MINUTES", 10, 0, 24 * 60),
        # An API microdata export of more responses than this is a job (202, then a file).
        "SURVEYAPP_EXPORT_JOB_ROWS": _whole_number(
            "SURVEYAPP_EXPORT_JOB_ROWS", 100_000, 0, 10**9),
    }


def load_config() -> dict[str, Any]:
    """Build the Flask config mapping from the environment."""
    instance = instance_path()
    database_url = os.environ.get(
        "SURVEYAPP_DATABASE_URL", f"sqlite:///{instance / 'surveyapp.db'}"
    )
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SURVEYAPP_INSTANCE_PATH": str(instance),
        "SURVEYAPP_QUESTIONNAIRE_DIR": os.environ.get(
            "SURVEYAPP_QUESTIONNAIRE_DIR", str(PROJECT_ROOT / "questionnaires")
        ),
        "SURVEYAPP_STORAGE_URL": os.environ.get("SURVEYAPP_STORAGE_URL", ""),  # "": instance/store
        # The address residents reach, for printed links and QR codes (surveyapp.survey_links).
        "SURVEYAPP_PUBLIC_URL": _public_url(),
        **_jobs(),
        # an s3:// store's server when it is not AWS (MinIO...), and its region; the
        # credentials are boto3's own (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ~/.aws)
        "SURVEYAPP_S3_ENDPOINT_URL": os.environ.get("SURVEYAPP_S3_ENDPOINT_URL", ""),
        "SURVEYAPP_S3_REGION": os.environ.get("SURVEYAPP_S3_REGION", ""),
        "SURVEYAPP_SUPPRESS_BELOW": int(os.environ.get("SURVEYAPP_SUPPRESS_BELOW", "30")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("SURVEYAPP_MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SURVEYAPP_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("SURVEYAPP_SECURE_COOKIES", "0") == "1",
        # A signed session cookie is refused this long after sign-in, whatever the browser does.
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=_whole_number("SURVEYAPP_SESSION_HOURS", 12, 1, 24 * 31)),
        "SURVEYAPP_TOKEN_DAYS": _whole_number("SURVEYAPP_TOKEN_DAYS", 90, 1, 3650),
        # A form page may show its wave as read this many seconds ago (0: read it every time);
        # the POST that stores a response always reads it afresh (blueprints/survey_waves.py).
        "SURVEYAPP_FORM_WAVE_SECONDS": _whole_number("SURVEYAPP_FORM_WAVE_SECONDS", 2, 0, 60),
        # Reverse proxies in front of the service whose X-Forwarded-* headers are believed.
        "SURVEYAPP_TRUSTED_PROXIES": _whole_number("SURVEYAPP_TRUSTED_PROXIES", 0, 0, 10),
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        # Residents and staff read and type times in this zone; the database keeps UTC.
        "BABEL_DEFAULT_TIMEZONE": _time_zone(),
        **_rate_limits(),
        **_proof_of_work(),
    }


def test_database_url() -> str | None:
    """PostgreSQL URL for the test suite's second backend, if one is configured."""
    url = os.environ.get("SURVEYAPP_TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


def normalise_database_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at psycopg 3, the driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
