"""Progress on standard error for the analyst commands, so a long run never looks hung.

Loading and weighting a large wave is one database query and cannot count its way forward,
so after a second of it a line says what is happening; once the amount of work is known
(tables to estimate, rows to write) a tqdm bar takes over. Runs that finish within a second
show nothing.
"""
from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Self

import click

STAGE_DELAY = 1.0  # seconds of silence before the first line appears


class StageProgress:
    """``with StageProgress(stage, desc, unit) as progress``: pass ``progress.set_total`` and
    ``progress.advance`` to a service as its ``on_total`` and ``progress`` callbacks."""

    def __init__(self, stage: str, desc: str, unit: str):
        self.stage, self.desc, self.unit = stage, desc, unit
        self.bar = None
        self.timer = threading.Timer(STAGE_DELAY, click.echo, (stage,), {"err": True})
        self.timer.daemon = True

    def __enter__(self) -> Self:
        self.timer.start()
        return self

    def set_total(self, total: int) -> None:
        from tqdm import tqdm

        self.timer.cancel()
        self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr,
                        delay=STAGE_DELAY, leave=False)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.timer.cancel()
        if self.bar is not None:
            self.bar.close()
