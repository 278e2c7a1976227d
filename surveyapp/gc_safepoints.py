"""On Python 3.11, threaded processes run the cyclic garbage collector only at safe points.

Why (issue 10, benchmarks/RESULTS.md "The gthread SIGSEGV: the cause and the fix"): CPython 3.11 starts a
collection inside whichever allocation of a tracked object crosses generation 0's threshold, also
while the allocating C code holds a half-built object; the collection runs weakref callbacks and
finalizers (Python code, which may hand the GIL to another request thread). Under gunicorn's
gthread workers that corrupted the interpreter's object memory (SIGSEGV in the GC's list walk
and in pymalloc). Python 3.12 only runs the collector at the eval breaker (CPython gh-97922).
Here, a server or worker process with request threads turns the automatic collector off and
runs the same generational schedule itself, at the start of each request or job, where the
thread is between two whole pieces of work. On 3.12 and later nothing changes.
"""
from __future__ import annotations

import gc
import sys

AUTOMATIC_COLLECTION_IS_SAFE = sys.version_info >= (3, 12)
_state = {"taken_over": False, "long_lived": 0, "full_check_at": 0}


def collect_only_at_safe_points() -> bool:
    """Called once by a threaded server or worker process; True when the collector was turned
    off here (and ``collect_if_due`` now runs it)."""
    if AUTOMATIC_COLLECTION_IS_SAFE or not gc.isenabled():
        return False
    gc.disable()
    _state["taken_over"] = True
    _state["long_lived"] = len(gc.get_objects(generation=2))
    gc.callbacks.append(_count_long_lived)
    return True


def collect_if_due() -> None:
    """Run the generation the automatic collector would have run by now (nothing unless
    ``collect_only_at_safe_points`` turned it off in this process).

    CPython 3.11's schedule (``gc_collect_generations``): generation 0 once its net allocations
    pass ``threshold0``, an older one once the collections of the one below pass its threshold,
    and a full collection only when that many objects joined the oldest generation since the
    last one as a quarter of those it kept then (so a large, stable heap is not walked often)."""
    if not _state["taken_over"]:
        return
    thresholds = gc.get_threshold()
    counts = gc.get_count()
    if thresholds[0] == 0 or counts[0] <= thresholds[0]:
        return
    generation = 2 if counts[2] > thresholds[2] and _full_collection_due(counts[2], thresholds[2]) \
        else 1 if counts[1] > thresholds[1] else 0
    gc.collect(generation)


def _count_long_lived(phase: str, info: dict) -> None:
    """After every full collection (ours or an explicit one), as CPython counts its survivors."""
    if phase == "stop" and info["generation"] == 2:
        _state["long_lived"] = len(gc.get_objects(generation=2))
        _state["full_check_at"] = 0


def _full_collection_due(older_runs: int, oldest: int) -> bool:
    """Whether the oldest generation grew by a quarter since the last full collection.

    CPython keeps that count as it promotes; here it takes a walk of the oldest generation, so
    after a "no" it is asked again only ``oldest`` generation-1 collections later (asking at
    every request made each one walk the whole heap)."""
    if older_runs < _state["full_check_at"]:
        return False
    grown = len(gc.get_objects(generation=2)) - _state["long_lived"]
    if grown >= _state["long_lived"] / 4:
        return True
    _state["full_check_at"] = older_runs + oldest
    return False
