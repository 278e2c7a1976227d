"""A job handler for the worker tests: its first start hangs (to be killed), later ones finish."""
from __future__ import annotations

import os
import time
from pathlib import Path

KIND = "test-slow"
HANDLER = "tests.web.slow_job:run"


def run(params: dict, progress: object) -> str:
    marker = Path(params["marker"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))  # tells the test this worker is mid-job
        time.sleep(120)  # killed long before
    return f"finished by {os.getpid()}"


WORKER_SCRIPT = f"""
import sys
sys.path.insert(0, sys.argv[1])
from surveyapp import create_app
from surveyapp.services import jobs
jobs.HANDLERS[{KIND!r}] = {HANDLER!r}
from surveyapp.worker import run_worker
run_worker(create_app(), 1)
"""
