"""Time for the bounded waits, injectable so tests never really sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


def print_flushed(line: str) -> None:
    """Progress must show up in CodeBuild's log while the run waits, not at the end."""
    print(line, flush=True)


@dataclass(frozen=True)
class Pacing:
    """A monotonic clock, a sleep and where progress lines go."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    echo: Callable[[str], None] = print_flushed
