"""The object store contract, on the embedded local backend."""
from __future__ import annotations

import pytest

from surveyapp.storage import open_store


@pytest.fixture
def store(tmp_path):
    return open_store(None, tmp_path)


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


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a//b", "a/./b"])
def test_keys_outside_the_store_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_unknown_url_scheme_is_refused(tmp_path):
    with pytest.raises(ValueError, match="SURVEYAPP_STORAGE_URL"):
        open_store("ftp://example", tmp_path)
