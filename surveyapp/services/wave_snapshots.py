"""Each wave's responses as a columnar snapshot in the shared store: reading a wave does not
pivot the answer table each time.

A snapshot holds every response of a wave (excluded ones and free text included) exactly as
``queries.responses_frame`` reads them, sorted by response id, as Parquet parts under
``snapshots/w<id>/`` with a manifest. The manifest states what the parts contain: their row
count, latest submission and lowest and highest response id, plus the wave's label and creation
time, the item columns and a digest of the reading code. Every read compares that state with the
database's (one aggregate query over the wave's responses):

* equal: the parts are read as they are;
* otherwise the responses submitted since the snapshot's latest submission (less a grace period
  for transactions that committed late) are pivoted alone and appended as a new part, when that
  makes the states equal (parts are merged into one every ``MAX_PARTS``);
* otherwise (fewer responses, a late arrival, another wave under the same id, new code) the
  snapshot is rebuilt from the database.

So a stale snapshot is never used. Exclusions and a district scope are applied on reading (a set
of ids, a column), so an exclusion, a re-inclusion or a district export does not rebuild it;
margins weight the frame after loading and do not touch it.

Several processes on several hosts may find the same snapshot stale at once. Writing it (the
append or the rebuild, from reading the manifest to writing the new one and removing the parts
it no longer names) happens under the wave's lock in the database (surveyapp.locks; the store
may be S3, which has none), so two appends never start from one manifest and leave a part no
manifest names; the second writer finds the snapshot current and writes nothing.

Parts are never rewritten (each has a new name), so the part names, the district scope and the
excluded ids identify a frame's content: ``read_wave`` returns that as a key, under which what
is derived from the frame alone (an estimate run's data fingerprint) is kept beside the
snapshot as ``derived-<key>`` and dropped with the parts it came from.
"""
from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from surveyapp import queries
from surveyapp.extensions import db
from surveyapp.locks import exclusive
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import Response, Wave, as_utc
from surveyapp.storage import ObjectStore, app_store

GRACE = timedelta(minutes=10)  # a response's time is set at submission, seen at commit
MAX_PARTS = 16
SNAPSHOT_LOCKS = 0x534E  # the lock namespace of snapshot writers (surveyapp.locks)
LOCK_WAIT_SECONDS = 120  # longer than the rebuild of a 1M-response wave


def _reader_digest() -> str:
    """The reading code's digest: a change to it rebuilds every snapshot."""
    digest = hashlib.sha256()
    for source in (Path(queries.__file__), Path(__file__)):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


READER_DIGEST = _reader_digest()


@dataclass(frozen=True)
class WaveRead:
    """A wave's frame as ``wave_frame`` gives it, and the key of its content: the same key means
    the same rows and values (None when the frame did not come from a snapshot)."""

    frame: pd.DataFrame
    key: str | None


def wave_frame(wave: Wave, item_ids: list[str], *, districts: Iterable[str] | None = None,
               exclude_flagged: bool = True, include_comments: bool = False) -> pd.DataFrame:
    """``queries.responses_frame`` of the wave with these arguments, from its snapshot, with
    the rows in response-id order (Python's string order, as ``load_wave`` sorts)."""
    return read_wave(wave, item_ids, districts=districts, exclude_flagged=exclude_flagged,
                     include_comments=include_comments).frame


def read_wave(wave: Wave, item_ids: list[str], *, districts: Iterable[str] | None = None,
              exclude_flagged: bool = True, include_comments: bool = False) -> WaveRead:
    """``wave_frame`` with the key of what it read (see the module docstring)."""
    state = database_state(wave, item_ids)
    if not state["count"]:
        return WaveRead(queries.responses_frame(wave.id, districts=districts, item_ids=item_ids,
                                                exclude_flagged=exclude_flagged,
                                                include_comments=include_comments), None)
    table, parts = _current_table(app_store(), wave, state)
    scope = None if districts is None else sorted(districts)
    if scope is not None:
        table = table.filter(pc.is_in(table["district"], pa.array(scope, pa.string())))
    excluded = sorted(_excluded_ids(wave)) if exclude_flagged else []
    if excluded:
        table = table.filter(pc.invert(pc.is_in(table["response_id"],
                                                pa.array(excluded, pa.string()))))
    if not include_comments:
        table = table.drop_columns(["comment"])
    if not table.num_rows:
        return WaveRead(queries.no_responses(item_ids, include_comments), None)
    key = None if parts is None else hashlib.sha256(
        json.dumps([parts, scope, excluded, include_comments]).encode()).hexdigest()
    return WaveRead(table.to_pandas(), key)


def get_derived(wave: Wave, name: str) -> bytes | None:
    """What was kept beside the wave's snapshot under ``name`` (see ``put_derived``)."""
    return app_store().get(f"snapshots/w{wave.id}/derived-{name}")


def put_derived(wave: Wave, name: str, data: bytes) -> None:
    """Keep ``data``, derived from a frame whose ``WaveRead.key`` is part of ``name``, beside
    the wave's snapshot until its parts change."""
    app_store().put(f"snapshots/w{wave.id}/derived-{name}", data)


def database_state(wave: Wave, item_ids: list[str]) -> dict:
    """What a current snapshot of the wave must state (see the module docstring)."""
    collation = "C" if db.session.get_bind().dialect.name == "postgresql" else "BINARY"
    response_id = Response.id.collate(collation)  # byte order, as Python compares strings
    count, last, low, high = db.session.execute(
        sa.select(sa.func.count(Response.id), sa.func.max(Response.submitted_at),
                  sa.func.min(response_id), sa.func.max(response_id))
        .where(Response.wave_id == wave.id)).one()
    return _state(wave, item_ids, count, last, low, high)


def _state(wave: Wave, item_ids: list[str], count: int, last: datetime | None,
           low: str | None, high: str | None) -> dict:
    return {"reader": READER_DIGEST, "wave": wave.id, "label": wave.label,
            "created": wave.created_at and as_utc(wave.created_at).isoformat(), "items": list(item_ids),
            "count": int(count), "last": None if last is None else as_utc(last).isoformat(),
            "low": low, "high": high}


def _table_state(wave: Wave, item_ids: list[str], table: pa.Table) -> dict:
    """The state ``table`` stands for (count, latest submission, id range)."""
    last = pc.max(table["submitted_at"]).as_py()
    low_high = pc.min_max(table["response_id"]).as_py() if table.num_rows else {}
    return _state(wave, item_ids, table.num_rows, last, low_high.get("min"), low_high.get("max"))


def _current_table(store: ObjectStore, wave: Wave, state: dict) -> tuple[pa.Table, list[str] | None]:
    """The wave's whole snapshot as of ``state`` (or later): read, brought up to date, or
    rebuilt, and the names of its parts (None: read from the database, no snapshot). Readers
    need no lock; a writer holds the wave's lock (surveyapp.locks) from reading the manifest to
    writing it, so two writers never append from the same manifest."""
    prefix = f"snapshots/w{wave.id}/"
    manifest = _manifest(store, prefix)
    table = _read_parts(store, manifest["parts"])
    if table is not None and manifest["state"] == state:
        return table, manifest["parts"]
    with exclusive(SNAPSHOT_LOCKS, wave.id, LOCK_WAIT_SECONDS) as held:
        if not held:  # another writer is stuck: read the database, write nothing
            return _from_database(wave, state["items"]), None
        # Another writer may have brought the snapshot up to date while this one waited, and
        # responses may have come in: compare the state of now with the manifest of now. Parts
        # are never rewritten under their name, so the same parts need not be read again.
        state = database_state(wave, state["items"])
        read, manifest = manifest["parts"], _manifest(store, prefix)
        if table is None or manifest["parts"] != read:
            table = _read_parts(store, manifest["parts"])
        if table is not None and manifest["state"] == state:
            return table, manifest["parts"]
        return _write_current(store, prefix, wave, state, manifest, table)


def _manifest(store: ObjectStore, prefix: str) -> dict:
    raw = store.get(prefix + "manifest.json")
    return json.loads(raw) if raw else {"state": None, "parts": []}


def _write_current(store: ObjectStore, prefix: str, wave: Wave, state: dict, manifest: dict,
                   table: pa.Table | None) -> tuple[pa.Table, list[str]]:
    """Append the news to the snapshot when that explains ``state``; otherwise rebuild it.
    The caller holds the wave's lock."""
    if table is not None and _same_snapshot(manifest["state"], state):
        since = datetime.fromisoformat(manifest["state"]["last"]) - GRACE
        news = _from_database(wave, state["items"], since)
        news = news.filter(pc.invert(pc.is_in(news["response_id"], table["response_id"])))
        grown = pa.concat_tables([table, news.cast(table.schema)]).sort_by("response_id")
        if _table_state(wave, state["items"], grown) == state:
            parts = manifest["parts"] + ([_put_part(store, prefix, news)] if news.num_rows else [])
            if len(parts) > MAX_PARTS:
                parts = [_put_part(store, prefix, grown)]
            _put_manifest(store, prefix, state, parts, manifest["parts"])
            return grown, parts
    table = _from_database(wave, state["items"])
    # the state of what was read: responses committed meanwhile are in it, and the next read
    # then finds the database's state equal or appends
    parts = [_put_part(store, prefix, table)]
    _put_manifest(store, prefix, _table_state(wave, state["items"], table), parts,
                  manifest["parts"])
    return table, parts


def _same_snapshot(stored: dict | None, state: dict) -> bool:
    """Whether the stored snapshot is of this wave, code and item list (it may lack news)."""
    return stored is not None and stored["last"] is not None and all(
        stored[key] == state[key] for key in ("reader", "wave", "label", "created", "items"))


def _from_database(wave: Wave, item_ids: list[str], since: datetime | None = None) -> pa.Table:
    frame = queries.responses_frame(wave.id, item_ids=item_ids, exclude_flagged=False,
                                    include_comments=True, submitted_since=since)
    return pa.Table.from_pandas(frame, preserve_index=False).sort_by("response_id")


def _read_parts(store: ObjectStore, keys: list[str]) -> pa.Table | None:
    """The parts as one table in response-id order; None when there are none or one is gone
    (replaced by a writer in another process meanwhile)."""
    tables = []
    for key in keys:
        data = store.get(key)
        if data is None:
            return None
        tables.append(pq.read_table(pa.BufferReader(data)))
    if not tables:
        return None
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables).sort_by("response_id")


def _put_part(store: ObjectStore, prefix: str, table: pa.Table) -> str:
    key = f"{prefix}part-{uuid.uuid4().hex}.parquet"
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="lz4")  # fast to read; ids barely compress anyway
    store.put(key, buffer.getvalue())
    return key


def _put_manifest(store: ObjectStore, prefix: str, state: dict, parts: list[str],
                  previous: list[str]) -> None:
    """Point the manifest at ``parts``, then remove every other part of the wave (those it
    replaced, and any left by a writer that died between writing a part and the manifest) and
    what was derived from the parts it replaced. The caller holds the wave's lock, so no other
    writer has a new part among them; a reader that finds a part gone waits for the lock and
    reads the new manifest."""
    store.put(prefix + "manifest.json", json.dumps({"state": state, "parts": parts}).encode())
    dropped = [key for key in store.keys(prefix + "part-") if key not in parts]
    for key in dropped:
        store.delete(key)
    if dropped or set(previous) != set(parts):
        for key in store.keys(prefix + "derived-"):
            store.delete(key)


def _excluded_ids(wave: Wave) -> list[str]:
    return list(db.session.scalars(
        sa.select(QualityFlag.response_id).distinct()
        .join(Response, Response.id == QualityFlag.response_id)
        .where(Response.wave_id == wave.id, QualityFlag.excluded)))
