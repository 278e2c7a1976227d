"""Peak resident memory of this process.

``getrusage``'s ``ru_maxrss`` survives ``exec``: a worker started by a parent holding 2 GB
reports 2 GB whatever it does itself. The kernel's ``VmHWM`` is the high-water mark of this
process image alone.
"""
from __future__ import annotations


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (VmHWM from /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")
