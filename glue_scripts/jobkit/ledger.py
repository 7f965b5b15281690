"""The bookkeeping between jobs: queues of batches waiting for a job, and run records.

A job that commits output puts one entry per downstream job in that job's queue, naming the
tables it wrote, how (``append``: files of this batch were added; ``replace``: the listed
partitions were rewritten whole) and which ``dt`` partitions. The downstream job processes what
is queued and removes exactly those entries once its own output is committed, so a queue only
ever holds what is still to do. Queues are kept per raw root (the ``raw_uri`` a run reads), so
a post-deploy test's run on its own prefix never consumes, nor is consumed by, the scheduled
runs.

Every job run also leaves a run record (``runs/<batch>/<job>.json``): its counts and, per
table, the partitions it wrote as a SQL list, which the state machine's data checks read to
query only those partitions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from jobkit.context import JobContext, batch_key
from jobkit.partitions import dt_list_sql
from jobkit.storage import Storage, join

WriteMode = Literal["append", "replace"]


def root_key(raw_uri: str) -> str:
    """A short stable name for a raw root (where a run reads raw objects)."""
    return hashlib.sha256(raw_uri.rstrip("/").encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class TableWrite:
    """What one run did to one table."""

    mode: WriteMode
    dts: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "dts": list(self.dts)}


@dataclass(frozen=True)
class QueueEntry:
    """A producer's batch waiting for a consumer: per table, how it was written."""

    uri: str
    producer: str
    batch_id: str
    tables: dict[str, TableWrite]


class Ledger:
    """Queues and run records of one data set's state, for the raw root of one run."""

    def __init__(self, storage: Storage, context: JobContext) -> None:
        self._storage = storage
        self._root = context.state_uri.rstrip("/")
        self._raw_root = root_key(context.raw_uri)

    def _queue(self, consumer: str) -> str:
        return join(self._root, "queues", consumer, self._raw_root) + "/"

    def enqueue(
        self,
        consumers: tuple[str, ...],
        producer: str,
        batch_id: str,
        tables: dict[str, TableWrite],
    ) -> None:
        """Tell each consumer about this batch (rewriting an entry is harmless)."""
        written = {table: write for table, write in tables.items() if write.dts}
        if not written:
            return
        document = {
            "producer": producer,
            "batch_id": batch_id,
            "tables": {table: write.as_json() for table, write in written.items()},
        }
        for consumer in consumers:
            name = f"{producer}.{batch_key(batch_id)}.json"
            self._storage.write_json(self._queue(consumer) + name, document)

    def pending(self, consumer: str, tables: list[str]) -> list[QueueEntry]:
        """Entries waiting for ``consumer`` that touched any of ``tables``, oldest name first."""
        entries = []
        for stored in self._storage.list_objects(self._queue(consumer)):
            document = self._storage.read_json(stored.uri)
            if document is None:
                continue
            writes = {
                table: TableWrite(write["mode"], tuple(write["dts"]))
                for table, write in document["tables"].items()
                if table in tables
            }
            entries.append(
                QueueEntry(stored.uri, document["producer"], document["batch_id"], writes)
            )
        return entries

    def dequeue(self, uris: list[str]) -> None:
        """Remove the entries at ``uris`` (an entry already gone is fine)."""
        for uri in uris:
            self._storage.delete(uri)

    def _record(self, batch_id: str, job: str) -> str:
        return join(self._root, "runs", batch_key(batch_id), f"{job}.json")

    def run_record(self, batch_id: str, job: str) -> dict[str, Any] | None:
        return self._storage.read_json(self._record(batch_id, job))

    def write_run_record(
        self, batch_id: str, job: str, counts: dict[str, int], tables: dict[str, TableWrite]
    ) -> None:
        """The run's counts and partitions; a later run of the same batch adds to them."""
        previous = self.run_record(batch_id, job) or {"tables": {}}
        merged = {}
        for table in sorted({*tables, *previous["tables"]}):
            dts = set(previous["tables"].get(table, {}).get("dts", []))
            dts |= set(tables[table].dts) if table in tables else set()
            merged[table] = {"dts": sorted(dts), "dt_sql": dt_list_sql(sorted(dts))}
        document = {"job": job, "batch_id": batch_id, **counts, "tables": merged}
        self._storage.write_json(self._record(batch_id, job), document)
