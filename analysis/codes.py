"""Integer codes for design variables: every estimate is a grouped sum over such codes.

Coding a million rows is a visible part of an analysis, so two shortcuts are taken where they
give the same codes as ``pd.factorize``: a categorical column already holds codes, and keys
from a small range are numbered by counting instead of hashing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes 0..k-1 (int64, -1 = missing) and the k observed values in sorted order.

    The same result as ``pd.factorize(column, sort=True)``: for a categorical column that is
    the observed categories in category order, taken from its codes without hashing labels.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(column, sort=True)
        return codes.astype(np.int64), pd.Index(uniques)
    raw = column.cat.codes.to_numpy().astype(np.int64)
    observed = np.bincount(raw + 1, minlength=len(column.cat.categories) + 1)[1:] > 0
    uniques = pd.Categorical.from_codes(np.flatnonzero(observed), dtype=column.dtype)
    if observed.all():
        return raw, pd.CategoricalIndex(uniques)
    # new code of each category; the appended -1 is what raw code -1 (missing) picks
    renumber = np.append(np.cumsum(observed) - 1, -1)
    return renumber[raw], pd.CategoricalIndex(uniques)


def dense_codes(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct values of ``key`` (integers in 0..size-1) as 0..k-1, in sorted order.

    Returns (code of each row, the k distinct keys sorted). Keys from a range no larger than
    the rows (or 65536) are counted with ``np.bincount``; sparser keys (e.g. one PSU per row
    within many strata) are hashed.
    """
    if size <= max(key.size, 1 << 16):
        present = np.bincount(key, minlength=size) > 0
        return (np.cumsum(present) - 1)[key], np.flatnonzero(present)
    codes, uniques = pd.factorize(key)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes].astype(np.int64), np.asarray(uniques)[order]


def combine(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Codes of the observed combinations of several coded variables (-1 where any is -1).

    Returns (combination code of each row, and for each variable its code in each
    combination); combinations are numbered in sorted (lexicographic) order.
    """
    missing = codes[0] < 0
    key = codes[0].astype(np.int64)
    for c, size in zip(codes[1:], sizes[1:]):
        missing |= c < 0
        key *= size
        key += c
    size = int(np.prod(sizes, dtype=np.int64))
    if missing.any():
        # shift keys by one so that rows with a missing part share key 0, then drop that key
        inv, uniq = dense_codes(np.where(missing, 0, key + 1), size + 1)
        dropped = int(uniq[0] == 0)
        inv, uniq = np.where(missing, -1, inv - dropped), uniq[dropped:] - 1
    else:
        inv, uniq = dense_codes(key, size)
    parts = []
    for size in reversed(sizes):
        uniq, part = np.divmod(uniq, size)
        parts.append(part)
    return inv, parts[::-1]


def row_units(outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row its own unit, nested in ``outer`` groups (codes >= 0): ``combine([outer,
    arange(n)], ...)`` without hashing n distinct keys.

    Units are numbered in (outer, row) order, which is a stable sort of ``outer``. Returns
    (unit code of each row, outer code of each unit).
    """
    small = outer.astype(np.int16) if outer.size and outer.max() < 1 << 15 else outer
    order = np.argsort(small, kind="stable")  # a radix sort for 16-bit keys
    unit = np.empty(outer.size, dtype=np.int64)
    unit[order] = np.arange(outer.size, dtype=np.int64)
    return unit, outer[order]
