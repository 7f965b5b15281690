"""Named points in a job run where a test can make it fail, to prove a rerun is harmless.

Production never arms a fault: :func:`checkpoint` does nothing unless a test (or the cloud
rehearsal, in the same process) called :func:`arm`. The points, in the order a run passes them:

- ``before_write``: inputs are known, nothing written;
- ``partial_write``: part of the output is in the work directory, no manifest;
- ``before_commit``: the output and its manifest are written, no table changed;
- ``partial_commit``: some of the output's files are in their tables;
- ``before_bookkeeping``: every table is committed, nothing recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

POINTS = ("before_write", "partial_write", "before_commit", "partial_commit", "before_bookkeeping")


class InjectedFault(RuntimeError):
    """Raised at an armed point."""


@dataclass
class _Armed:
    job: str
    point: str
    times: int


_armed: list[_Armed] = []


def arm(job: str, point: str, times: int = 1) -> None:
    """Fail the next ``times`` runs of ``job`` at ``point``."""
    if point not in POINTS:
        raise ValueError(f"unknown fault point '{point}'; use one of {', '.join(POINTS)}")
    _armed.append(_Armed(job, point, times))


def disarm() -> None:
    _armed.clear()


def checkpoint(job: str, point: str) -> None:
    """Fail here if a test armed this point for this job."""
    for armed in _armed:
        if armed.job == job and armed.point == point and armed.times > 0:
            armed.times -= 1
            raise InjectedFault(f"{job}: injected fault at {point}")
