"""Estimate runs (what was estimated, on exactly which data, with what result) and API tokens."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ResponseManifest(db.Model):
    """The responses behind a data hash, each with a digest of its content (zlib; see
    surveyapp.services.estimation.fingerprint), so that a rerun on changed data can say which
    responses were added, dropped or edited.

    One row per data hash, shared by every run on those data: the hash determines the manifest
    (both are written from the same canonical text), and a million responses make 24 MB,
    which each warm rerun of a spec on an unchanged wave used to store again (0.2-0.25 s).
    """

    __tablename__ = "response_manifest"

    data_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    manifest: Mapped[bytes] = mapped_column(sa.LargeBinary)


class EstimateRun(db.Model):
    """One estimate, recorded so that ``surveyapp estimate --rerun ID`` can reproduce it.

    ``data_hash`` is a SHA-256 over the exact responses used (after exclusions) in response-id
    order; its ``ResponseManifest`` lists them. ``districts_json`` is the district scope of a
    bureau user's run (null: every district). The manifest is loaded only when read, by a
    rerun on changed data; not with every run listed or refreshed after a commit (a quarter
    of a second at a million responses).
    """

    __tablename__ = "estimate_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    spec_json: Mapped[str] = mapped_column(sa.Text)
    districts_json: Mapped[str | None] = mapped_column(sa.Text)
    data_hash: Mapped[str] = mapped_column(sa.ForeignKey("response_manifest.data_hash"),
                                           index=True)
    response_count: Mapped[int] = mapped_column(sa.Integer)
    package_version: Mapped[str] = mapped_column(sa.String(40))
    results_json: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))  # username, or "cli"
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    manifest_row: Mapped[ResponseManifest] = relationship(lazy="select")

    @property
    def response_manifest(self) -> bytes:
        """The run's manifest (zlib), read from its data hash's row on first use."""
        return self.manifest_row.manifest


class ApiToken(db.Model):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once.

    Refused after ``expires_at``, once revoked, or when its user is disabled.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(default=False)
