"""docker-compose.yml describes the topology that test_topology.py runs, with commands, options
and settings this code base accepts.

No Docker daemon is needed (none runs where the suite runs): the file is read as data and each
part is checked by the program that would receive it: the ``surveyapp`` command group parses
the commands, gunicorn's own parser its arguments, ``load_config`` the environment.
"""
from __future__ import annotations

import re
import shlex
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from surveyapp.config import load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: service for name, service in SERVICES.items()
                if service.get("image") == "surveyapp"}
# What the .env file named in the compose file's header would give.
DOT_ENV = {"POSTGRES_PASSWORD": "compose-test-password", "SURVEYAPP_SECRET_KEY": "k" * 40}


def command(service: dict) -> list[str]:
    return shlex.split(service["command"])


def roles() -> dict[str, list[str]]:
    """Service names by the program their command starts."""
    found: dict[str, list[str]] = {}
    for name, service in APP_SERVICES.items():
        words = command(service)
        role = "web" if words[0] == "gunicorn" else words[1]
        found.setdefault(role, []).append(name)
    return found


def test_the_services_are_the_topology_tests_processes():
    """Two web servers, one worker, PostgreSQL and Redis (test_topology.py), and the migration
    every app container waits for."""
    assert sorted(roles()["web"]) == ["web1", "web2"]
    assert roles()["worker"] == ["worker"]
    assert roles()["db"] == ["migrate"]
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    for name, service in APP_SERVICES.items():
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", sorted(n for n, s in APP_SERVICES.items()
                                        if command(s)[0] == "surveyapp"))
def test_each_surveyapp_command_and_its_options_exist(name):
    """``--help`` after the service's own arguments: click parses them first, so an unknown
    command or option fails here as it would in the container."""
    words = command(APP_SERVICES[name])
    run = subprocess.run(
        [sys.executable, "-c", "from surveyapp.cli import main; main()", *words[1:], "--help"],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("name", sorted(roles()["web"]))
def test_the_web_servers_arguments_are_gunicorns_and_the_images_port(name):
    from gunicorn.config import Config

    words = command(APP_SERVICES[name])
    options = Config().parser().parse_args(words[1:])  # exits (fails the test) on a bad option
    assert (ROOT / options.config).is_file()
    module, _, attribute = options.args[0].partition(":")
    assert (ROOT / f"{module}.py").is_file() and attribute == "app"
    port = options.bind[0].rpartition(":")[2]
    assert re.search(rf"^EXPOSE {port}$", (ROOT / "Dockerfile").read_text(), re.M)
    assert any(mapping.endswith(f":{port}") for mapping in APP_SERVICES[name]["ports"])


def compose_environment(service: dict) -> dict[str, str]:
    """The service's environment with ${VARIABLES} filled in as from .env."""
    return {key: string.Template(str(value)).substitute(DOT_ENV)
            for key, value in service["environment"].items()}


def test_every_setting_named_is_a_documented_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for service in APP_SERVICES.values():
        for key in service["environment"]:
            assert f"| `{key}` |" in readme, f"{key}: not a setting in the README's table"


def test_the_settings_give_the_shared_production_parts(monkeypatch):
    """PostgreSQL, the Redis queue and rate-limit counts, and the store on the shared volume."""
    for service in APP_SERVICES.values():
        for key, value in compose_environment(service).items():
            monkeypatch.setenv(key, value)
        config = load_config()
        assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        assert "@postgres/" in config["SQLALCHEMY_DATABASE_URI"]
        assert config["SURVEYAPP_QUEUE_URL"].startswith("redis://redis:")
        assert config["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
        store = config["SURVEYAPP_STORAGE_URL"].removeprefix("file://")
        assert any(store == volume.partition(":")[2] for volume in service["volumes"])
        assert config["SECRET_KEY"] == DOT_ENV["SURVEYAPP_SECRET_KEY"]
