"""One table of two warehouses compared with DuckDB (no JVM: a few milliseconds a table).

Rows are matched by the table's grain (its contract's unique key) when both sides have the
grain's columns and it is unique on both; otherwise the table is compared as a multiset of rows
(``EXCEPT ALL`` both ways). Columns that name the run which wrote a row differ on every run and
are left out; so are columns only one side has (the contract changes report those).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The lineage columns a raw job stamps with its run (dataops.job_graph.LINEAGE_COLUMNS also has
# source_file and line_number, which both runs share: they read the same raw files).
RUN_COLUMNS = ("ingested_at", "ingest_batch_id")
# Marks a matched row in the full outer join; no table has a column of this name.
PRESENT = "__data_diff_present"
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
# Every quarantine table has it (dataops.job_graph.QUARANTINE_COLUMNS).
REASON_COLUMN = "reason"


@dataclass(frozen=True)
class ColumnDiff:
    """One column of the matched rows: how many differ, and by how much at most (numbers)."""

    column: str
    rows: int
    largest_change: float | None


@dataclass(frozen=True)
class RowDiff:
    """The rows of one table, base against head. ``None`` rows: that side wrote no file."""

    base_rows: int | None
    head_rows: int | None
    key: tuple[str, ...]
    added: int
    removed: int
    changed: int
    columns: tuple[ColumnDiff, ...]
    columns_only_in_base: tuple[str, ...] = ()
    columns_only_in_head: tuple[str, ...] = ()
    note: str = ""

    @property
    def differs(self) -> bool:
        return bool(
            self.added
            or self.removed
            or self.changed
            or self.columns_only_in_base
            or self.columns_only_in_head
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_source(location: Path) -> str | None:
    """A DuckDB table expression over the Parquet files under ``location`` (None: no file)."""
    if not any(location.rglob("*.parquet")):
        return None
    pattern = str(location / "**" / "*.parquet").replace("'", "''")
    return f"read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"


def _columns(connection: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Column -> DuckDB type, run columns left out."""
    rows = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    return {name: kind for name, kind, *_ in rows if name not in RUN_COLUMNS}


def _count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = connection.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _unique(connection: duckdb.DuckDBPyConnection, source: str, key: Sequence[str]) -> bool:
    columns = ", ".join(_quote(name) for name in key)
    duplicates = _count(
        connection,
        f"SELECT count(*) FROM (SELECT 1 FROM {source} GROUP BY {columns} HAVING count(*) > 1)",
    )
    return duplicates == 0


def _numeric(kind: str) -> bool:
    return kind.startswith(NUMERIC_TYPES) or kind.startswith("DECIMAL")


def _keyed(
    connection: duckdb.DuckDBPyConnection,
    sources: tuple[str, str],
    key: Sequence[str],
    values: dict[str, tuple[str, str]],
) -> tuple[int, int, int, tuple[ColumnDiff, ...]]:
    """Added, removed and changed rows matched on ``key``; ``values`` maps every other common
    column to its (base, head) type."""
    base, head = sources
    selected = ", ".join(_quote(name) for name in [*key, *values])
    on = " AND ".join(f"h.{_quote(k)} IS NOT DISTINCT FROM b.{_quote(k)}" for k in key)
    matched = f"h.{PRESENT} AND b.{PRESENT}"
    differs = {}
    for name, (base_type, head_type) in values.items():
        column = _quote(name)
        if base_type == head_type:
            differs[name] = f"h.{column} IS DISTINCT FROM b.{column}"
        else:
            differs[name] = (
                f"CAST(h.{column} AS VARCHAR) IS DISTINCT FROM CAST(b.{column} AS VARCHAR)"
            )
    numeric = [n for n, (b, h) in values.items() if _numeric(b) and _numeric(h)]
    any_differs = " OR ".join(differs.values()) or "false"
    measures = [
        f"count(*) FILTER (WHERE b.{PRESENT} IS NULL)",
        f"count(*) FILTER (WHERE h.{PRESENT} IS NULL)",
        f"count(*) FILTER (WHERE {matched} AND ({any_differs}))",
        *(f"count(*) FILTER (WHERE {matched} AND {sql})" for sql in differs.values()),
        *(
            f"max(abs(CAST(h.{_quote(n)} AS DOUBLE) - CAST(b.{_quote(n)} AS DOUBLE))) "
            f"FILTER (WHERE {matched})"
            for n in numeric
        ),
    ]
    row = connection.execute(
        f"SELECT {', '.join(measures)} FROM "
        f"(SELECT {selected}, true AS {PRESENT} FROM {head}) h FULL OUTER JOIN "
        f"(SELECT {selected}, true AS {PRESENT} FROM {base}) b ON {on}"
    ).fetchone()
    assert row is not None
    added, removed, changed, *rest = row
    per_column = dict(zip(differs, rest[: len(differs)], strict=True))
    largest = dict(zip(numeric, rest[len(differs) :], strict=True))
    columns = tuple(
        ColumnDiff(name, int(count), largest.get(name))
        for name, count in per_column.items()
        if count
    )
    return int(added), int(removed), int(changed), columns


def _as_multiset(
    connection: duckdb.DuckDBPyConnection,
    sources: tuple[str, str],
    common: dict[str, tuple[str, str]],
) -> tuple[int, int]:
    """Rows only in head and rows only in base, as multisets (a repeated row counts each time)."""

    def projection(side: int) -> str:
        return (
            ", ".join(
                _quote(name) if types[0] == types[1] else f"CAST({_quote(name)} AS VARCHAR)"
                for name, types in common.items()
            )
            + f" FROM {sources[side]}"
        )

    base, head = projection(0), projection(1)
    added = _count(connection, f"SELECT count(*) FROM (SELECT {head} EXCEPT ALL SELECT {base})")
    removed = _count(connection, f"SELECT count(*) FROM (SELECT {base} EXCEPT ALL SELECT {head})")
    return added, removed


def compare_rows(base: Path, head: Path, grain: Sequence[str]) -> RowDiff:
    """The rows of the table at ``base`` against those at ``head`` (``grain``: its key)."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    base_source, head_source = table_source(base), table_source(head)
    base_rows = _count(connection, f"SELECT count(*) FROM {base_source}") if base_source else None
    head_rows = _count(connection, f"SELECT count(*) FROM {head_source}") if head_source else None
    if base_source is None or head_source is None:
        return RowDiff(base_rows, head_rows, (), head_rows or 0, base_rows or 0, 0, ())
    base_columns = _columns(connection, base_source)
    head_columns = _columns(connection, head_source)
    common = {
        name: (base_columns[name], kind)
        for name, kind in head_columns.items()
        if name in base_columns
    }
    only = {
        "columns_only_in_base": tuple(c for c in base_columns if c not in head_columns),
        "columns_only_in_head": tuple(c for c in head_columns if c not in base_columns),
    }
    sources = (base_source, head_source)
    usable = bool(grain) and all(name in common for name in grain)
    if (
        usable
        and _unique(connection, base_source, grain)
        and _unique(connection, head_source, grain)
    ):
        values = {name: types for name, types in common.items() if name not in grain}
        added, removed, changed, columns = _keyed(connection, sources, grain, values)
        return RowDiff(base_rows, head_rows, tuple(grain), added, removed, changed, columns, **only)
    note = ""
    if grain:
        why = "is not unique" if usable else "is missing on one side"
        note = f"the grain ({', '.join(grain)}) {why}: compared as a multiset of rows"
    added, removed = _as_multiset(connection, sources, common)
    return RowDiff(base_rows, head_rows, (), added, removed, 0, (), **only, note=note)


def reason_counts(location: Path) -> dict[str, int]:
    """Rows of a quarantine table by reason (none when it has no file)."""
    source = table_source(location)
    if source is None:
        return {}
    rows = duckdb.sql(
        f"SELECT {REASON_COLUMN}, count(*) FROM {source} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return {str(reason): int(count) for reason, count in rows}
