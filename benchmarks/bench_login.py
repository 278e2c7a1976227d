"""Sign-in answer time for unknown, disabled and active accounts (the issue measured 18 ms for
a disabled account against ~350 ms otherwise).

Usage::

    PYTHONPATH=. python benchmarks/bench_login.py [--repeat 15]   # from the repository root

Builds a throwaway SQLite database through the migrations, creates an active and a disabled
account with the production argon2 parameters, and times ``accounts.authenticate`` (the whole
service call: lookup, throttling queries, one argon2 verification, failure and audit rows) for
each case, each attempt from its own client hash so that throttling never answers early.
Prints the median and the spread (min-max) in milliseconds, wall and CPU.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

CASES = [  # (label, user name, password)
    ("unknown user name", "nobody-here", "wrong password!"),
    ("disabled, wrong password", "disabled-one", "wrong password!"),
    ("disabled, right password", "disabled-one", "correct horse battery"),
    ("active, wrong password", "active-one", "wrong password!"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat

    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.services import accounts

    folder = Path(tempfile.mkdtemp(prefix="bench-login-"))
    app = create_app({"SECRET_KEY": "bench", "SURVEYAPP_INSTANCE_PATH": str(folder),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}"})
    with app.app_context():
        upgrade()
        accounts.create_user("active-one", "correct horse battery", "analyst")
        disabled = accounts.create_user("disabled-one", "correct horse battery", "analyst")
        accounts.set_active(disabled, False)
        db.session.commit()
        accounts.authenticate("warm-up", "x", "warm-up")  # the dummy hash is made once
        print(f"{'case':<28} {'wall ms median (min-max)':>26} {'CPU ms median':>14}")
        for label, username, password in CASES:
            walls, cpus = [], []
            for n in range(repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                accounts.authenticate(username, password, f"{label}-{n}")
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                db.session.commit()
            print(f"{label:<28} {statistics.median(walls):>9.0f} ({min(walls):.0f}-{max(walls):.0f})"
                  f"{'':>8} {statistics.median(cpus):>10.0f}")


if __name__ == "__main__":
    main()
