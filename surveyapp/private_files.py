"""Files only the service's own account may read: created with their final mode, never chmodded.

The instance folder holds the SQLite database, the secret key and cached reports: each is
created 0700 (folders) or 0600 (files) in the same system call that creates it, so there is no
moment at which another local account could open it. Existing files and folders are left as
they are: an administrator who chose other modes keeps them.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a folder, created 0700 (its missing parents too) if it does not exist."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)  # the mode applies at creation (umask can only narrow)
        except FileExistsError:  # another process made it meanwhile
            pass
    return path


def private_file(path: Path) -> Path:
    """Create an empty 0600 file at ``path`` unless one exists (e.g. before SQLite opens it)."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    return path


def write_once(path: Path, text: str) -> str:
    """Store ``text`` at ``path`` unless a file is there already; return the text in force.

    The text is written to a 0600 temporary file beside ``path``, which is then hard-linked to
    its name: the file appears complete, with its final mode, or not at all, and when two
    processes race the first link wins and both use its text.
    """
    private_dir(path.parent)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_text().strip()
        return text
    finally:
        os.unlink(temporary)


def private_sqlite_file(database_url: str) -> None:
    """Create a SQLite database file 0600 before SQLite would create it world-readable.

    SQLite gives its journal and WAL files the database file's mode. Other backends, and
    in-memory databases, are left alone. (SQLAlchemy is imported here, not at the top: the
    configuration, which every command's start-up reads, imports this module.)
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not url.database.startswith("file:"):
        private_file(Path(url.database).resolve())
