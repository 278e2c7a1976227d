"""The one rule for object names, shared by every backend."""
from __future__ import annotations


def checked_key(key: str) -> str:
    """``key`` itself, or ValueError when it is empty, absolute or has ``.``/``..``/empty parts
    (on disk such a key would leave the store; in a bucket it would alias another)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key
