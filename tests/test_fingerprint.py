"""The data fingerprint of estimate runs is pinned: recorded runs compare against these bytes, so
a faster way of computing it must give the same hash and manifest, quoting cases included."""
from __future__ import annotations

import hashlib
import zlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from surveyapp.services.estimation import fingerprint

# computed with the implementation of 076af97 (pandas to_csv, one uuid.UUID per response)
PINNED = {
    "plain": ("4e32d0978599a9808145650f7d13e7e51b58ef0a7371e8da23c37089cbca4f0d",
              "a95ec0923f218903a865a20463c6adf319352f3ab82fc2a7cacd34552389afaf", 3),
    "quoted": ("34e7ea691ed14d393b2ab18ae2eae932152cec71cc861616882412baef105d7d",
               "2043b121371634b422bfb6eefa243a4e91e7ec1d5f695f536bd72bd73c55e903", 3),
    "two waves": ("08ee6f4e7471ebea51f80509925fced706ef137e8eebacd7c33172c37d7907f6",
                  "e82c1ff590ee3f9d1d4a4a9fef85afdd940e8a24241402ab930f7c5a5f7d8c45", 5),
}


def waves(name: str) -> list[SimpleNamespace]:
    base = pd.DataFrame({
        "response_id": ["0b6f5a4e-1c1d-4d7e-9a43-1f4d1c0e9a01",
                        "5E3C2B1A-0D9F-4E8D-8C7B-6A5F4E3D2C1B",  # upper case: still a UUID
                        "f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f"],
        "wave": ["2024"] * 3, "district": ["310109", "310110", "310109"],
        "street": ["310109001", None, ""], "sex": ["男", "female", None],
        "age_group": ["18-29", "30-44", "60+"], "residence_years": [None, "1-5", "5+"],
        "language": ["zh", "en", "zh"], "channel": ["web", "demo", "invitation"],
        "duration_seconds": [301.0, np.nan, 45.0],
        "p_food": [7.0, 99.0, np.nan], "p_goods": [1.0, 10.0, 5.0], "z_last": [np.nan, np.nan, 3.0],
    })
    questionnaire = SimpleNamespace(items=[SimpleNamespace(id=i)
                                           for i in ("z_last", "p_food", "p_goods")])
    frames = {"plain": [base],
              "quoted": [base.assign(wave=['wave "A", 2024'] * 3, street=["a\nb", None, "c"])],
              "two waves": [base, base.iloc[1:]]}[name]
    return [SimpleNamespace(questionnaire=questionnaire, frame=f) for f in frames]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_fingerprint_is_unchanged(name):
    data_hash, manifest, count = fingerprint(waves(name))
    assert (data_hash, hashlib.sha256(zlib.decompress(manifest)).hexdigest(), count) == PINNED[name]


def test_codes_without_quotes_are_written_by_arrow(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pandas' CSV writer used where no value needs quoting")

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    data_hash, _manifest, _count = fingerprint(waves("plain"))
    assert data_hash == PINNED["plain"][0]


@pytest.mark.parametrize("rows", [1, 2])
@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_fingerprint_written_in_pieces_is_the_same(monkeypatch, name, rows):
    """Responses are written a piece at a time (to bound memory); the hash and the manifest are
    those of the whole text, the line break inside a quoted value included."""
    monkeypatch.setattr("surveyapp.services.estimation.FINGERPRINT_ROWS", rows)
    data_hash, manifest, count = fingerprint(waves(name))
    assert (data_hash, hashlib.sha256(zlib.decompress(manifest)).hexdigest(), count) == PINNED[name]
