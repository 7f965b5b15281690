"""Wall time, peak resident memory and CPU time of a command and every process it starts.

``make test`` forks pytest workers and Spark forks a JVM, so the peak that matters on a
3 GB CodeBuild box is the sum over the whole process tree at one moment, not the largest
single process that ``/usr/bin/time`` reports. CPU time is summed the same way, per process
seen in the tree: a JVM that outlives its Python parent is reparented and never reaped by the
command, so the command's own rusage leaves it out. Wall time varies with whatever else the
machine runs; CPU time much less, and wall time on N cores cannot be below CPU time / N.
Linux ``/proc`` is polled, so no extra package.
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
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 0.1
GIB = 1024**3


@dataclass(frozen=True)
class Measurement:
    """One command's outcome."""

    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float
    returncode: int
    output: str

    @property
    def peak_gib(self) -> float:
        return self.peak_rss_bytes / GIB


@dataclass(frozen=True)
class _Process:
    parent: int
    started: int
    cpu_ticks: int


def _processes() -> dict[int, _Process]:
    """Every live process: its parent, start time and CPU time (user and system), in ticks."""
    processes: dict[int, _Process] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; the fields after its ')' are fixed:
        # ppid is field 4, utime and stime 14 and 15, starttime 22.
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        processes[int(entry.name)] = _Process(int(fields[1]), int(fields[19]), ticks)
    return processes


def _tree(root: int, processes: dict[int, _Process]) -> list[int]:
    """``root`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.parent, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in processes:
            found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _rss(pid: int) -> int:
    """Resident bytes of ``pid`` now (shared pages counted in each process that maps them)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError):
        return 0


def measure(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` to completion, polling the tree's memory and CPU time; output is
    captured."""
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
    # CPU ticks of each process seen in the tree, by pid and start time (a pid can be reused).
    cpu_ticks: dict[tuple[int, int], int] = {}
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stdout.read()), daemon=True)
    reader.start()
    while process.poll() is None:
        processes = _processes()
        tree = _tree(process.pid, processes)
        peak = max(peak, sum(_rss(pid) for pid in tree))
        for pid in tree:
            cpu_ticks[(pid, processes[pid].started)] = processes[pid].cpu_ticks
        time.sleep(POLL_SECONDS)
    reader.join()
    return Measurement(
        seconds=time.perf_counter() - started,
        peak_rss_bytes=peak,
        cpu_seconds=sum(cpu_ticks.values()) / CLOCK_TICKS,
        returncode=process.returncode,
        output="".join(chunks),
    )
