"""gunicorn.conf.py: a gthread worker takes no more connections than it has threads, unless the
operator set ``--worker-connections`` (a worker that kept accepting queued residents behind its
own threads while its sibling was free)."""
from __future__ import annotations

import runpy
import types
from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


def started(*arguments: tuple[str, object], hook: str = "on_starting") -> Config:
    cfg = Config()
    for name, value in arguments:
        cfg.set(name, value)
    runpy.run_path(str(CONF))[hook](types.SimpleNamespace(cfg=cfg))
    return cfg


@pytest.mark.parametrize("threads", [1, 4, 8])
def test_a_worker_takes_as_many_connections_as_it_has_threads(threads):
    assert started(("threads", threads)).worker_connections == threads


def test_a_reload_sets_the_connections_again():
    """SIGHUP reads the file afresh (worker_connections back at gunicorn's default)."""
    assert started(("threads", 2), hook="on_reload").worker_connections == 2


def test_a_chosen_number_of_connections_is_kept():
    assert started(("threads", 4), ("worker_connections", 50)).worker_connections == 50
