"""Committing a job's output so that a rerun of the same batch is harmless at any point.

A run first writes its whole output into its work directory (``<state>/work/<job>/<batch>/``,
one sub-folder per table, ``dt=`` partitions below) and then a *manifest* naming every file's
final name and, per table, how it is committed:

- ``append``: the files join their partitions; nothing else changes;
- ``replace``: the listed partitions end up holding exactly the new files (partitions with no
  new file end up empty).

Committing moves each file to its final name, then (``replace``) deletes every other file of
those partitions. Final names are ``b-<batch>.<manifest id>.<n>.parquet``, unique per manifest.
A rerun that finds a manifest commits it again instead of recomputing: a file already moved is
skipped, one not yet moved is moved, so the tables end as one successful run leaves them. A
rerun that finds no manifest recomputes from scratch (its partial output is deleted first).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from jobkit.context import batch_key
from jobkit.ledger import TableWrite, WriteMode
from jobkit.storage import Storage, join

MANIFEST = "manifest.json"
MOVE_THREADS = 16
DATA_SUFFIX = ".parquet"


def batch_file_prefix(batch_id: str) -> str:
    """What every committed file of ``batch_id`` is named after (``.`` never occurs in a key)."""
    return f"b-{batch_key(batch_id)}."


@dataclass(frozen=True)
class TableCommit:
    """One table of a manifest: its final location, mode, partitions and file moves."""

    location: str
    mode: WriteMode
    dts: tuple[str, ...]
    moves: tuple[tuple[str, str], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "mode": self.mode,
            "dts": list(self.dts),
            "moves": [list(move) for move in self.moves],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> TableCommit:
        return cls(
            location=document["location"],
            mode=document["mode"],
            dts=tuple(document["dts"]),
            moves=tuple((source, target) for source, target in document["moves"]),
        )

    @property
    def write(self) -> TableWrite:
        return TableWrite(self.mode, self.dts)


@dataclass(frozen=True)
class Manifest:
    """A prepared, not yet (or not completely) committed output; ``details`` is the job's own
    record of what it consumed and counted, read back by its bookkeeping."""

    id: str
    batch_id: str
    tables: dict[str, TableCommit]
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "batch_id": self.batch_id,
            "tables": {name: table.as_json() for name, table in self.tables.items()},
            "details": self.details,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Manifest:
        return cls(
            id=document["id"],
            batch_id=document["batch_id"],
            tables={n: TableCommit.from_json(t) for n, t in document["tables"].items()},
            details=document.get("details", {}),
        )


class WorkArea:
    """The work directory of one job run (one batch)."""

    def __init__(self, storage: Storage, work_uri: str, batch_id: str) -> None:
        self.storage = storage
        self.uri = work_uri.rstrip("/")
        self.batch_id = batch_id

    def table_uri(self, table: str) -> str:
        return join(self.uri, table)

    def manifest(self) -> Manifest | None:
        document = self.storage.read_json(join(self.uri, MANIFEST))
        return Manifest.from_json(document) if document else None

    def clear(self) -> None:
        self.storage.delete(self.uri + "/")

    def written_dts(self, table: str) -> list[str]:
        """The ``dt`` partitions the work directory holds files of, for ``table``."""
        folders = self.storage.list_folders(self.table_uri(table) + "/")
        dts = [folder.rstrip("/").rsplit("/", 1)[1] for folder in folders]
        return sorted(name.split("=", 1)[1] for name in dts if name.startswith("dt="))

    def seal(
        self,
        locations: dict[str, str],
        modes: dict[str, WriteMode],
        replaced: dict[str, list[str]],
        details: dict[str, Any],
    ) -> Manifest:
        """Write the manifest of what the work directory holds. ``replaced`` names, per table
        committed with ``replace``, every partition to rewrite, with or without new files."""
        manifest_id = uuid.uuid4().hex[:8]
        prefix = batch_file_prefix(self.batch_id)
        tables = {}
        for table, location in locations.items():
            moves = []
            for number, stored in enumerate(
                item
                for item in self.storage.list_objects(self.table_uri(table) + "/")
                if item.uri.endswith(DATA_SUFFIX)
            ):
                partition = stored.uri[len(self.table_uri(table)) + 1 :].split("/", 1)[0]
                name = f"{prefix}{manifest_id}.{number:05d}{DATA_SUFFIX}"
                moves.append((stored.uri, join(location, partition, name)))
            written = self.written_dts(table)
            dts = sorted(set(written) | set(replaced.get(table, [])))
            tables[table] = TableCommit(
                location.rstrip("/"), modes[table], tuple(dts), tuple(moves)
            )
        manifest = Manifest(manifest_id, self.batch_id, tables, details)
        self.storage.write_json(join(self.uri, MANIFEST), manifest.as_json())
        return manifest


def commit(storage: Storage, manifest: Manifest, halfway: Callable[[], None]) -> None:
    """Move every file of ``manifest`` into place and, for ``replace``, drop what it replaces.

    ``halfway`` runs after the first half of the moves (a fault-injection checkpoint)."""
    moves = [move for table in manifest.tables.values() for move in table.moves]
    half = len(moves) // 2

    def move(pair: tuple[str, str]) -> None:
        source, target = pair
        if storage.exists(source):
            storage.move(source, target)

    with ThreadPoolExecutor(max_workers=MOVE_THREADS) as pool:
        list(pool.map(move, moves[:half]))
        halfway()
        list(pool.map(move, moves[half:]))
    for table in manifest.tables.values():
        if table.mode != "replace":
            continue
        keep = {target for _, target in table.moves}
        for day in table.dts:
            for stored in storage.list_objects(join(table.location, f"dt={day}") + "/"):
                if stored.uri not in keep:
                    storage.delete(stored.uri)
