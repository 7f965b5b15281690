"""What one run of one job knows: its declaration, its tables' locations, its batch.

The same object is built from Glue job arguments (:mod:`jobkit.arguments`) and by the local
runner from the job graph, so a job behaves the same in both places.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

Incremental = Literal["raw_objects", "append", "recompute_partitions"]
INCREMENTAL_MODES: tuple[str, ...] = ("raw_objects", "append", "recompute_partitions")
NO_REPLAY = "none"
_REPLAY = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class ContextError(ValueError):
    """An argument a run cannot work with; the message names it and the fix."""


@dataclass(frozen=True)
class RawLayout:
    """Where a data set's raw objects are below the raw root, and their file name suffixes."""

    layout: str
    suffixes: tuple[str, ...]
    lateness_days: int


@dataclass(frozen=True)
class DateRange:
    """Inclusive delivery dates, e.g. of a replay."""

    first: dt.date
    last: dt.date

    @classmethod
    def parse(cls, text: str) -> DateRange | None:
        """``none`` or ``YYYY-MM-DD..YYYY-MM-DD``."""
        if text == NO_REPLAY:
            return None
        match = _REPLAY.match(text)
        if match is None:
            raise ContextError(
                f"--replay: '{text}' is not a date range; fix: pass none or YYYY-MM-DD..YYYY-MM-DD"
            )
        try:
            first, last = (dt.date.fromisoformat(part) for part in match.groups())
        except ValueError as exc:
            raise ContextError(f"--replay: '{text}': {exc}; fix: pass real dates") from None
        if first > last:
            raise ContextError(
                f"--replay: '{text}' starts after it ends; fix: put the earlier date first"
            )
        return cls(first, last)

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def days(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=offset) for offset in range(count)]


def batch_key(batch_id: str) -> str:
    """``batch_id`` as it may appear in object names (no glob or path characters)."""
    return _UNSAFE.sub("_", batch_id)


@dataclass(frozen=True)
class JobContext:
    """One run of one job of one data set.

    ``inputs`` and ``outputs`` map table names to their locations (``outputs`` in the order
    the job graph declares them, the quarantine table last); ``schemas`` gives each output's
    columns as its contract declares them (Spark DDL), which is how every output is written;
    ``downstream`` names the jobs that
    read this job's outputs, whose queues get this run's batches. ``batch_id`` names the run of
    the whole data workflow (the Step Functions execution name in AWS), the same for every job
    of one run, so that a retried or redriven job recognises its own earlier attempts.
    """

    dataset: str
    job: str
    incremental: Incremental
    inputs: dict[str, str]
    outputs: dict[str, str]
    schemas: dict[str, str]
    state_uri: str
    batch_id: str
    python: str | None = None
    sql: str | None = None
    quarantine: str | None = None
    downstream: tuple[str, ...] = ()
    raw_uri: str = ""
    raw: RawLayout | None = None
    replay: DateRange | None = None
    database: str = ""
    # When the run started (UTC): the time every row it writes is ingested at.
    started_at: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None), compare=False
    )

    def __post_init__(self) -> None:
        if self.incremental not in INCREMENTAL_MODES:
            raise ContextError(
                f"--incremental: '{self.incremental}'; fix: use one of "
                f"{', '.join(INCREMENTAL_MODES)}"
            )
        if not self.batch_id.strip():
            raise ContextError("--batch_id: empty; fix: pass the run's id")
        unschemed = [table for table in self.outputs if table not in self.schemas]
        if unschemed:
            raise ContextError(
                f"--schemas: no columns for {', '.join(unschemed)}; fix: add them (the CDK app "
                "writes them from the contracts)"
            )
        if self.quarantine is not None and self.quarantine not in self.outputs:
            raise ContextError(
                f"--quarantine: '{self.quarantine}' has no location in --outputs; fix: add it"
            )
        if self.incremental == "raw_objects" and (self.raw is None or not self.raw_uri):
            raise ContextError("--raw_uri: a job reading raw objects needs it; fix: pass it")

    @property
    def output(self) -> str:
        """The one table a SQL model or the main table a parser writes."""
        return next(table for table in self.outputs if table != self.quarantine)

    def location(self, table: str) -> str:
        """Where ``table`` lives (an input or an output of this job)."""
        found = self.outputs.get(table) or self.inputs.get(table)
        if found is None:
            raise KeyError(f"{table} is neither an input nor an output of job {self.job}")
        return found.rstrip("/")

    @property
    def run_date(self) -> dt.date:
        return self.started_at.date()

    @property
    def work_uri(self) -> str:
        """Where this job's uncommitted output of this batch is prepared."""
        return f"{self.state_uri.rstrip('/')}/work/{self.job}/{batch_key(self.batch_id)}"


@dataclass(frozen=True)
class JobResult:
    """What a run did: rows in and out, what it quarantined, the partitions it wrote."""

    job: str
    rows_in: int
    rows_out: int
    rows_quarantined: int = 0
    objects_quarantined: int = 0
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def partitions(self) -> tuple[str, ...]:
        """Every dt partition the run wrote, of any table."""
        return tuple(sorted({dt for dts in self.tables.values() for dt in dts}))
