"""Let a short batch process keep the memory it frees, instead of returning it to the kernel.

An estimate over a million responses allocates and frees hundreds of 8 MB arrays (one per
column and step). By default glibc gives a freed block back to the kernel as soon as the top
of the heap holds more than a few of them, so the next array is mapped afresh and page-faults
as it is first written: ~45,000 faults, 0.3-0.8 s of a warm 1M ``surveyapp estimate`` on the
benchmark machine (benchmarks/RESULTS.md). With the thresholds raised, freed blocks are reused;
the process holds at most ``TRIM_THRESHOLD`` more than it uses, until it exits. Only for
commands that run once and exit (surveyapp.cli): a long-lived server would keep that memory.
"""
from __future__ import annotations

import ctypes

# mallopt(3) parameters and values; the mmap threshold cannot exceed 32 MB on 64-bit glibc.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
TRIM_THRESHOLD = 512 << 20
MMAP_THRESHOLD = 32 << 20


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds for this process and let Arrow allocate from the
    same heap; False where the C library is not glibc (nothing changes there).

    Arrow's own allocator (jemalloc) kept the ~300 MB a snapshot read frees to itself, so
    numpy's arrays after it (the score block, the weights) were fresh pages again; on one heap
    each reuses what the other freed. Warm 1M estimate, four alternating pairs of fresh
    processes: 2.60-3.24 s -> 2.51-2.85 s; the exports' peak 1.36 -> 1.24-1.30 GB
    (benchmarks/RESULTS.md)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    kept = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if kept:
        import pyarrow  # the batch commands read snapshots with it anyway

        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    return kept
