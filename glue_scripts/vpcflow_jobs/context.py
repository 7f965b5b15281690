"""What a job run needs to know about where things are; the same locally and in Glue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

QUARANTINE_TABLE = "quarantine_vpcflowlogs"


@dataclass(frozen=True)
class JobContext:
    """Locations and identity of one run of the data workflow.

    ``raw_uri`` is scanned recursively for ``*.log``/``*.log.gz``; every table lives at
    ``<warehouse_uri>/<table>`` except the quarantine, which has a location of its own.
    ``batch_id`` names the run (the Step Functions execution name in AWS).
    """

    raw_uri: str
    warehouse_uri: str
    quarantine_uri: str
    state_uri: str
    batch_id: str
    database: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    def table_uri(self, table: str) -> str:
        if table == QUARANTINE_TABLE:
            return self.quarantine_uri.rstrip("/")
        return f"{self.warehouse_uri.rstrip('/')}/{table}"


@dataclass(frozen=True)
class JobResult:
    """Row counts of one job run, for the summary and the consistency check."""

    job: str
    rows_in: int
    rows_out: int
    rows_quarantined: int = 0
    partitions: tuple[str, ...] = ()
