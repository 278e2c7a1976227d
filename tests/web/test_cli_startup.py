"""`surveyapp --help` and a command's --help must not load the application's heavy stack, and
building the application must not load the chart, document and scipy.stats libraries.

Timing belongs in benchmarks/bench_cli_startup.py; what the suite checks is the cause of slow
start-ups: which modules a help request imports.
"""
from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

HEAVY = ("pandas", "scipy", "statsmodels", "matplotlib", "alembic", "surveyapp.blueprints",
         "numpy", "pyarrow", "sqlalchemy", "surveyapp.models", "surveyapp.services")

PROBE = """
import json, sys
from surveyapp.cli import main
try:
    main(sys.argv[1:], prog_name="surveyapp")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy} or m in {heavy})))
"""


def run_help(*args: str) -> tuple[str, list[str]]:
    """What `surveyapp ARGS` printed, and which heavy modules it had imported by the end."""
    probe = PROBE.replace("{heavy}", repr(set(HEAVY)))
    run = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                         check=True)
    *printed, loaded = run.stdout.strip().splitlines()
    return "\n".join(printed), json.loads(loaded)


@pytest.mark.parametrize("args", [("--help",), ("estimate", "--help"), ("export", "--help"),
                                  ("report", "--help"), ("invitations", "letters", "--help"),
                                  ("sae", "--help"), ("index", "--help"),
                                  ("composite", "index", "--help"),
                                  ("composite", "load", "--help"),
                                  ("plan", "create", "--help")])
def test_help_imports_no_heavy_module(args):
    assert run_help(*args)[1] == []


def test_help_lists_every_command():
    printed, _ = run_help("--help")
    listed = {line.split()[0] for line in printed.split("Commands:")[1].splitlines()
              if line.strip()}
    assert {"db", "demo", "estimate", "export", "report", "run", "token", "user"} <= listed


def test_db_resolves_to_the_migrations_group():
    printed, loaded = run_help("db", "--help")
    assert "upgrade" in printed and "alembic" in loaded


APP_PROBE = """
import json, sys
from surveyapp import create_app
create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "probe"})
print(json.dumps(sorted(m for m in sys.modules if m in {heavy})))
"""


def test_app_start_loads_no_chart_document_or_test_library():
    """Every command (and worker) builds the app: charts, PDF/XLSX writers and scipy.stats
    load when a report or test needs them, not at start-up."""
    heavy = {"matplotlib", "scipy.stats", "statsmodels", "fpdf", "openpyxl"}
    run = subprocess.run([sys.executable, "-c", APP_PROBE.replace("{heavy}", repr(heavy))],
                         capture_output=True, text=True, check=True)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []


PAGELESS_PROBE = """
import json, sys
from surveyapp import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "probe"}, web={web})
print(json.dumps({"blueprints": sorted(app.blueprints),
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {heavy}
                                   or m.startswith("surveyapp.blueprints."))}))
"""


@pytest.mark.parametrize("web", [True, False])
def test_migrations_bind_when_first_used_and_pageless_apps_have_no_views(web):
    """No app imports alembic at start-up (Flask-Migrate is bound on first use, as
    tests/conftest.py's ``upgrade()`` does); one built with web=False (estimate, export)
    imports no views, rate limiter or CSRF forms, only the release of its session."""
    probe = PAGELESS_PROBE.replace("{web}", repr(web)).replace(
        "{heavy}", repr({"alembic", "flask_migrate", "flask_limiter"}))
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    built = json.loads(run.stdout.strip().splitlines()[-1])
    if web:
        assert "survey" in built["blueprints"] and "flask_limiter" in built["loaded"]
        assert not {"alembic", "flask_migrate"} & set(built["loaded"])
    else:
        assert built == {"blueprints": [], "loaded": ["surveyapp.blueprints.errors"]}


@pytest.mark.parametrize("command, web", [(("estimate",), False), (("export",), False),
                                          (("user",), True), (("run",), True),
                                          (("invitations", "letters"), True)])
def test_the_console_script_builds_pageless_apps_for_estimate_and_export(command, web,
                                                                          monkeypatch):
    """estimate and export: create_app(web=False) in a process that keeps freed memory."""
    from surveyapp import cli

    built = []
    monkeypatch.setattr("surveyapp.create_app", lambda **kwargs: built.append(kwargs))
    monkeypatch.setattr("surveyapp.heap.keep_freed_memory", lambda: built.append("heap"))
    with click.Context(cli.main, info_name="surveyapp") as ctx:
        group = cli.main
        for name in command:
            group = group.get_command(ctx, name)
            ctx = click.Context(group, parent=ctx, info_name=name)
        with ctx:
            cli._create_app()
    assert built == ([{}] if web else ["heap", {"web": False}])


def test_a_batch_process_can_keep_the_memory_it_frees():
    """glibc's thresholds are raised (surveyapp.heap); elsewhere nothing changes. In a process
    of its own: the suite's process must not keep what it frees."""
    import platform

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    run = subprocess.run([sys.executable, "-c", "from surveyapp.heap import keep_freed_memory; "
                          "print(keep_freed_memory()); import pyarrow; "
                          "print(pyarrow.default_memory_pool().backend_name)"],
                         capture_output=True, text=True, check=True)
    kept, arrow_pool = run.stdout.split()
    assert kept == str(expected)
    assert (arrow_pool == "system") == expected  # Arrow on the same heap, reusing its memory
