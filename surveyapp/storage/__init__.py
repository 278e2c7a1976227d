"""Where built reports, exports and wave snapshots live: one store every web host and worker shares.

``open_store(url)`` gives the store named by ``SURVEYAPP_STORAGE_URL``: ``s3://bucket/prefix``
for an S3-compatible bucket that every host reaches (``SURVEYAPP_S3_ENDPOINT_URL`` for MinIO and
the like), ``file:///path`` for a folder; without it, a folder in the instance path (the
embedded default, right for one machine). Keys are ``/``-separated names
such as ``reports/w3/310109-zh-pdf``; values are whole byte strings, written atomically, so a
reader sees an old object or a new one, never half of one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from surveyapp.storage.local import LocalStore


class ObjectStore(Protocol):
    """The few operations the service needs of a shared store."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there, atomically."""

    def delete(self, key: str) -> None:
        """Remove the object; no error when it does not exist."""

    def keys(self, prefix: str) -> list[str]:
        """Every key that starts with ``prefix``, sorted."""


def app_store() -> ObjectStore:
    """The store of the running app (its ``SURVEYAPP_STORAGE_URL``)."""
    from flask import current_app

    config = current_app.config
    return open_store(config.get("SURVEYAPP_STORAGE_URL"), config["SURVEYAPP_INSTANCE_PATH"],
                      endpoint_url=config.get("SURVEYAPP_S3_ENDPOINT_URL"),
                      region=config.get("SURVEYAPP_S3_REGION"))


def open_store(url: str | None, instance_path: str | Path, *, endpoint_url: str | None = None,
               region: str | None = None) -> ObjectStore:
    """The store named by ``url`` (None or empty: ``<instance>/store`` on local disk);
    ``endpoint_url`` and ``region`` matter only to ``s3://`` stores."""
    if not url:
        return LocalStore(Path(instance_path) / "store")
    if url.startswith("file://"):
        return LocalStore(Path(url.removeprefix("file://")))
    if url.startswith("s3://") and url.removeprefix("s3://").split("/")[0]:
        from surveyapp.storage.s3 import S3Store

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3Store(bucket, prefix, endpoint_url=endpoint_url, region=region)
    raise ValueError(f"SURVEYAPP_STORAGE_URL：不支持的存储地址 / unsupported storage URL {url!r} "
                     "(expected file:///path or s3://bucket/prefix)")
