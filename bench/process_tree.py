"""Wall time and peak resident memory of a command and every process it starts.

``make test`` forks pytest workers and Spark forks a JVM, so the peak that matters on a
3 GB CodeBuild box is the sum over the whole process tree at one moment, not the largest
single process that ``/usr/bin/time`` reports. Linux ``/proc`` is polled, so no extra package.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
POLL_SECONDS = 0.1
GIB = 1024**3


@dataclass(frozen=True)
class Measurement:
    """One command's outcome."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str

    @property
    def peak_gib(self) -> float:
        return self.peak_rss_bytes / GIB


def _parents() -> dict[int, int]:
    """pid -> parent pid of every live process."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants now (shared pages counted per process)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
        except (OSError, IndexError):
            continue
    return total


def measure(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` to completion, polling the tree's memory; output is captured."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = 0
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stdout.read()), daemon=True)
    reader.start()
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(POLL_SECONDS)
    reader.join()
    return Measurement(
        seconds=time.perf_counter() - started,
        peak_rss_bytes=peak,
        returncode=process.returncode,
        output="".join(chunks),
    )
