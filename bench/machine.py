"""A one-line description of the machine the figures were measured on."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

from bench.process_tree import GIB


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024 / GIB
    return 0.0


def describe() -> str:
    return (
        f"{os.cpu_count()} cores, {_memory_gib():.1f} GiB memory, {_cpu_model()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
