"""An S3-compatible bucket (AWS S3, MinIO, Ceph...) as the shared store, through boto3.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``~/.aws``, an instance role); ``endpoint_url`` names a server other than AWS. A PUT replaces
an object whole, so readers see the old object or the new one, as the store promises.
"""
from __future__ import annotations

from surveyapp.storage.keys import checked_key


class S3Store:
    """Objects under ``prefix`` in ``bucket``; keys are the store's keys after the prefix."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import boto3  # here, not at import: only a store configured for S3 pays for it

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None,
                                   region_name=region or None)

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix)
        return sorted(entry["Key"][len(self.prefix):]
                      for page in pages for entry in page.get("Contents", ()))

    def _name(self, key: str) -> str:
        return self.prefix + checked_key(key)
