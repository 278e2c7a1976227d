"""Threaded processes on Python 3.11 collect cycles only at safe points (surveyapp.gc_safepoints).

Each check runs in a fresh interpreter: turning the collector off is process-wide and must not
leak into the test process.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ON_311 = pytest.mark.skipif(sys.version_info >= (3, 12),
                            reason="3.12 collects only at the eval breaker: nothing to take over")


def run_probe(code: str) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; it prints one JSON line."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


CYCLE = """
import gc, json, weakref
from surveyapp import gc_safepoints

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)

def churn(n):
    keep = [[] for _ in range(n)]   # tracked allocations that stay alive: gen-0 count grows
    return keep
"""


@ON_311
def test_after_take_over_cycles_wait_for_a_safe_point_then_are_collected():
    result = run_probe(CYCLE + """
taken = gc_safepoints.collect_only_at_safe_points()
gc.collect()
ref = cycle()
kept = churn(gc.get_threshold()[0] * 3)     # far past the threshold: 3.11 would collect here
alive_after_churn = ref() is not None
gc_safepoints.collect_if_due()
print(json.dumps({"taken": taken, "enabled": gc.isenabled(),
                  "alive_after_churn": alive_after_churn, "alive_after_safe_point": ref() is not None}))
""")
    assert result == {"taken": True, "enabled": False, "alive_after_churn": True,
                      "alive_after_safe_point": False}


@ON_311
def test_a_safe_point_before_the_threshold_collects_nothing():
    result = run_probe(CYCLE + """
gc_safepoints.collect_only_at_safe_points()
gc.collect()
ref = cycle()
gc_safepoints.collect_if_due()
print(json.dumps({"alive": ref() is not None}))
""")
    assert result == {"alive": True}


SCHEDULE = CYCLE + """
gc.set_threshold(50, 3, 2)
gc.collect()
runs, kept = [], []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(info["generation"]))
for _ in range(60000):           # one tracked allocation at a time, then a safe point
    kept.append([])
    gc_safepoints.collect_if_due()
gc.callbacks.clear()
print(json.dumps({"runs": runs}))
"""


@ON_311
def test_the_generations_follow_cpythons_own_schedule():
    automatic = run_probe(SCHEDULE)["runs"]
    at_safe_points = run_probe(SCHEDULE.replace(
        "gc.set_threshold", "gc_safepoints.collect_only_at_safe_points(); gc.set_threshold"))
    # not run for run (the safe point's own bookkeeping allocates), but the same schedule:
    # as many collections of each generation, within 5 %, full ones included
    for generation in (0, 1, 2):
        expected = automatic.count(generation)
        assert expected > 0
        assert abs(at_safe_points["runs"].count(generation) - expected) <= 0.05 * expected


@ON_311
def test_a_stable_heap_is_walked_only_as_often_as_full_collections_are_considered():
    """Whether a full collection is due takes a walk of the oldest generation; asked at every
    safe point once it was due, it walked the whole heap on every request."""
    result = run_probe(CYCLE + """
import types
walks = []
def counting(generation=None):
    walks.append(generation)
    return gc.get_objects(generation=generation)
gc_safepoints.gc = types.SimpleNamespace(**{name: getattr(gc, name) for name in dir(gc)
                                            if not name.startswith("__")})
gc_safepoints.gc.get_objects = counting
gc_safepoints.collect_only_at_safe_points()
gc.set_threshold(50, 3, 2)
ballast = [[] for _ in range(200000)]   # a served app's heap: long-lived objects
gc.collect()
runs = []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(info["generation"]))
kept = []
for _ in range(20000):          # a tenth of the heap: no full collection is due
    kept.append([])
    gc_safepoints.collect_if_due()
gc.callbacks.clear()
print(json.dumps({"walks": len(walks), "young": runs.count(0), "older": runs.count(1),
                  "full": runs.count(2)}))
""")
    assert result["full"] == 0 and result["young"] > 300
    assert result["walks"] <= result["older"] / 2 + 2


def test_nothing_happens_unless_a_server_took_over():
    result = run_probe(CYCLE + """
gc.disable()                      # someone else's choice, not ours
gc.collect()
ref = cycle()
kept = churn(gc.get_threshold()[0] * 3)
gc_safepoints.collect_if_due()
print(json.dumps({"alive": ref() is not None}))
""")
    assert result == {"alive": True}


@ON_311
def test_every_request_is_a_safe_point(tmp_path):
    result = run_probe(CYCLE + f"""
from surveyapp import create_app
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/probe.db",
                  "SURVEYAPP_INSTANCE_PATH": "{tmp_path}", "SECRET_KEY": "probe",
                  "SURVEYAPP_QUEUE_URL": "immediate"}})
client = app.test_client()
gc_safepoints.collect_only_at_safe_points()
gc.collect()
ref = cycle()
kept = churn(gc.get_threshold()[0] * 3)
client.get("/no-such-page")
print(json.dumps({{"alive": ref() is not None}}))
""")
    assert result == {"alive": False}


@pytest.mark.parametrize("threads, expected", [(4, False), (1, True)])
def test_gunicorn_takes_over_only_with_request_threads(threads, expected):
    result = run_probe(f"""
import gc, json, runpy, sys, types
config = runpy.run_path("gunicorn.conf.py")
server = types.SimpleNamespace(cfg=types.SimpleNamespace(threads={threads}))
config["post_fork"](server, None)
print(json.dumps({{"enabled": gc.isenabled()}}))
""")
    assert result == {"enabled": expected or sys.version_info >= (3, 12)}
