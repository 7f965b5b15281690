"""Faults a scenario arms before an execution; the emulated services consult them as they act.

Names are the deployed ones (the Glue job's and crawler's names as the template sets them);
:class:`~dataops.rehearsal.harness.Rehearsal` finds them from a job-graph name.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

Row = list[str | None]


class CrawlOutcome(StrEnum):
    """How a crawl ends (moto's crawl states; ``RUNNING`` is a crawl that never ends)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    RUNNING = "RUNNING"


@dataclass(frozen=True)
class QueryAnswer:
    """Queries containing ``fragment`` return ``rows`` (under their real header)."""

    fragment: str
    rows: tuple[tuple[str | None, ...], ...]


@dataclass(frozen=True)
class JobRunFault:
    """What goes wrong in one run of a Glue job: it fails before its script runs, with
    ``message``, or its script fails at the ``jobkit.faults`` checkpoint ``point``."""

    message: str = ""
    point: str = ""


@dataclass
class Faults:
    """The armed faults and how many runs of each Glue job have started."""

    job_runs: dict[tuple[str, int], JobRunFault] = field(default_factory=dict)
    crawls: dict[str, CrawlOutcome] = field(default_factory=dict)
    answers: list[QueryAnswer] = field(default_factory=list)
    job_runs_started: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail_job_run(self, job: str, attempt: int = 1, message: str = "") -> None:
        """The ``attempt``-th run of Glue job ``job`` (1 = its first in this rehearsal) fails
        with ``message`` before its script runs."""
        armed = f"RuntimeError: fault armed by the rehearsal for run {attempt} of {job}"
        self.job_runs[(job, attempt)] = JobRunFault(message=message or armed)

    def fail_job_at(self, job: str, point: str, attempts: Iterable[int] = (1,)) -> None:
        """Those runs of Glue job ``job`` fail inside the job at ``point``, one of
        ``jobkit.faults.POINTS`` (what the job did before it stays done, as in Glue)."""
        for attempt in attempts:
            self.job_runs[(job, attempt)] = JobRunFault(point=point)

    def end_crawls(self, crawler: str, outcome: CrawlOutcome) -> None:
        self.crawls[crawler] = outcome

    def answer_queries(self, fragment: str, rows: list[Row]) -> None:
        self.answers.append(QueryAnswer(fragment, tuple(tuple(row) for row in rows)))

    def clear(self) -> None:
        """Disarm every fault (run counts stay)."""
        self.job_runs.clear()
        self.crawls.clear()
        self.answers.clear()

    def job_run_started(self, job: str) -> JobRunFault | None:
        """Count a run of ``job``; the fault armed for this attempt, if any."""
        with self._lock:
            self.job_runs_started[job] += 1
            return self.job_runs.get((job, self.job_runs_started[job]))

    def crawl_outcome(self, crawler: str) -> CrawlOutcome:
        return self.crawls.get(crawler, CrawlOutcome.COMPLETED)

    def answer(self, query: str) -> tuple[tuple[str | None, ...], ...] | None:
        """The rows armed for ``query``, the last armed answer that matches winning."""
        matching = [answer.rows for answer in self.answers if answer.fragment in query]
        return matching[-1] if matching else None
