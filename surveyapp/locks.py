"""Exclusive locks that every process and host sharing the database respects.

The shared store (surveyapp.storage) may be an S3 bucket, which has no locks, so the lock lives
with the database: on PostgreSQL a session advisory lock, held on a connection of its own (the
server releases it when the holder's process dies); on SQLite, whose database is one machine's
file, ``flock`` on a file beside it (a lock of the open file, so two threads of one process
exclude each other as two processes do, and the kernel releases it when the process dies).
No transaction stays open while a lock is held: writers of the database are never blocked.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from surveyapp.extensions import db
from surveyapp.private_files import FILE_MODE, private_dir

POLL_SECONDS = 0.05


@contextmanager
def exclusive(namespace: int, key: int, wait_seconds: float) -> Iterator[bool]:
    """Hold the lock ``(namespace, key)`` for the block; True once held, False when another
    holder kept it for ``wait_seconds`` (the caller then does without what it guards)."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            held = _poll(lambda: connection.scalar(
                sa.text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                {"namespace": namespace, "key": key}), wait_seconds)
            try:
                yield held
            finally:
                if held:
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:namespace, :key)"),
                                       {"namespace": namespace, "key": key})
        return
    descriptor = os.open(_lock_file(engine, namespace, key), os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        held = _poll(lambda: _try_flock(descriptor), wait_seconds)
        yield held  # closing the descriptor releases the lock
    finally:
        os.close(descriptor)


def _poll(attempt: Callable[[], bool], wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while not attempt():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _try_flock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_file(engine: sa.Engine, namespace: int, key: int) -> Path:
    """``<database>.locks/<namespace>-<key>`` beside the SQLite file (the instance folder for
    an in-memory database), so every process that opens the database finds the same file."""
    database = engine.url.database
    folder = Path(f"{database}.locks") if database and database != ":memory:" else \
        Path(current_app.config["SURVEYAPP_INSTANCE_PATH"]) / "locks"
    return private_dir(folder) / f"{namespace}-{key}"
