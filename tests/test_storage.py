"""The object store contract, on every backend: the embedded local folder and an S3 bucket
(a moto server on this machine, which speaks the S3 protocol as MinIO or AWS would)."""
from __future__ import annotations

import uuid

import pytest

from surveyapp.storage import open_store

MOTO_PORT = 5171  # this project's test range is 5171-5179


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server for the session, with throw-away credentials in boto3's environment."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{MOTO_PORT}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            patch.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="surveyapp-test")
        yield endpoint
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return open_store(None, tmp_path)
    endpoint = request.getfixturevalue("s3_endpoint")
    # a fresh prefix per test: the bucket is the session's
    return open_store(f"s3://surveyapp-test/t-{uuid.uuid4().hex}", tmp_path,
                      endpoint_url=endpoint)


def test_put_get_replace_delete(store):
    assert store.get("reports/w1/a.pdf") is None
    store.put("reports/w1/a.pdf", b"one")
    store.put("reports/w1/a.pdf", b"two")
    assert store.get("reports/w1/a.pdf") == b"two"
    store.delete("reports/w1/a.pdf")
    store.delete("reports/w1/a.pdf")  # deleting what is gone is no error
    assert store.get("reports/w1/a.pdf") is None


def test_keys_lists_by_prefix_sorted(store):
    for key in ("reports/w2/b", "reports/w1/b", "reports/w1/a", "snapshots/w1"):
        store.put(key, b"x")
    assert store.keys("reports/w1/") == ["reports/w1/a", "reports/w1/b"]
    assert store.keys("") == ["reports/w1/a", "reports/w1/b", "reports/w2/b", "snapshots/w1"]
    assert store.keys("nothing/") == []


def test_large_binary_objects_round_trip(store):
    data = bytes(range(256)) * 40_000  # 10 MB: a report or a snapshot part
    store.put("snapshots/w1/part", data)
    assert store.get("snapshots/w1/part") == data


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a//b", "a/./b"])
def test_keys_outside_the_store_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_stores_sharing_a_bucket_see_only_their_prefix(s3_endpoint, tmp_path):
    first, second = (open_store(f"s3://surveyapp-test/{name}", tmp_path, endpoint_url=s3_endpoint)
                     for name in (f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"))
    first.put("reports/x", b"1")
    assert second.get("reports/x") is None
    assert second.keys("") == []


@pytest.mark.parametrize("url", ["ftp://example", "s3://", "s3:///prefix"])
def test_unknown_url_scheme_is_refused(tmp_path, url):
    with pytest.raises(ValueError, match="SURVEYAPP_STORAGE_URL"):
        open_store(url, tmp_path)
