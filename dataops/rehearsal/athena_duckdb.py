"""Athena in the rehearsal: queries answered by DuckDB over the S3 mirror.

Moto records a query and returns no rows. Inside :meth:`AthenaEngine.patched`,
``StartQueryExecution`` runs the query before it returns: every table of the Glue catalog that
the query names becomes a DuckDB view over the Parquet files under its location in the mirror
(its columns cast to their catalog types, its partition keys read from the ``key=value``
directories), the Trino SQL is transpiled by sqlglot (as ``dataops.data_tests`` does) and run,
and the execution ends ``SUCCEEDED`` with the rows in the Athena API's shape (header row first,
every value a string) or ``FAILED`` with DuckDB's message as ``StateChangeReason``. The Step
Functions integration and plain boto3 both read them through moto's ``GetQueryExecution`` and
``GetQueryResults``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import sqlglot
from moto.athena.models import AthenaBackend, QueryResults
from moto.athena.responses import AthenaResponse
from sqlglot import exp

from dataops.data_tests import SOURCE_DIALECT
from dataops.rehearsal.faults import Faults
from dataops.rehearsal.s3_mirror import S3_URI, S3Mirror

# The catalog Athena names its Glue databases in (``awsdatacatalog.db.table``).
ATHENA_CATALOG = "awsdatacatalog"
_GLUE_TYPES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}
# Athena's names of result column types, by DuckDB's (first word, before any parameters).
_ATHENA_TYPES = {
    "VARCHAR": "varchar",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double",
    "DECIMAL": "decimal",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BLOB": "varbinary",
    "MAP": "map",
}


class QueryFailed(Exception):
    """The query cannot run (Athena would fail it with this reason)."""


@dataclass(frozen=True)
class QueryResult:
    """Column names, Athena type names and rows as Athena's strings (None for NULL)."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]

    def athena_rows(self) -> list[dict[str, Any]]:
        """``ResultSet.Rows``: the header row, then the data rows."""
        return [
            {"Data": [{} if value is None else {"VarCharValue": value} for value in row]}
            for row in (self.columns, *self.rows)
        ]

    def column_info(self) -> list[dict[str, Any]]:
        return [
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": name,
                "Label": name,
                "Type": kind,
                "Precision": 0,
                "Scale": 0,
                "Nullable": "UNKNOWN",
                "CaseSensitive": kind == "varchar",
            }
            for name, kind in zip(self.columns, self.types, strict=True)
        ]


def _split_top_level(text: str) -> list[str]:
    """``a, map<b,c>`` -> ``['a', 'map<b,c>']``: commas outside angle brackets."""
    parts, depth, current = [], 0, ""
    for character in text:
        depth += {"<": 1, ">": -1}.get(character, 0)
        if character == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += character
    return [*parts, current.strip()]


def duckdb_type(glue_type: str) -> str:
    """A Glue (Hive) column type as DuckDB's."""
    text = glue_type.strip().lower()
    if text.startswith("decimal"):
        return text.upper()
    if text.startswith(("varchar(", "char(")):
        return "VARCHAR"
    if text.startswith("map<") and text.endswith(">"):
        key, value = _split_top_level(text[4:-1])
        return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"
    if text.startswith("array<") and text.endswith(">"):
        return f"{duckdb_type(text[6:-1])}[]"
    if text not in _GLUE_TYPES:
        raise QueryFailed(f"column type {glue_type} is not emulated")
    return _GLUE_TYPES[text]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _athena_text(value: Any) -> str | None:
    """A DuckDB value as Athena prints it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_athena_text(k)}={_athena_text(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(str(_athena_text(item)) for item in value) + "]"
    return str(value)


def _athena_type(duckdb_type_name: str) -> str:
    if duckdb_type_name.endswith("[]"):
        return "array"
    return _ATHENA_TYPES.get(re.split(r"[(\s]", duckdb_type_name, maxsplit=1)[0], "varchar")


class AthenaEngine:
    """Answers Athena queries from moto's Glue catalog and the S3 mirror."""

    def __init__(self, glue: Any, mirror: S3Mirror, faults: Faults) -> None:
        self._glue = glue
        self._mirror = mirror
        self._faults = faults

    def _view_sql(self, database: str, table: dict[str, Any]) -> str:
        """The table as a view: its Parquet files, or no rows of its columns when it has none."""
        descriptor = table["StorageDescriptor"]
        columns = [*descriptor.get("Columns", []), *table.get("PartitionKeys", [])]
        location = Path(self._mirror.local_path(descriptor["Location"]))
        has_files = location.is_dir() and any(location.rglob("*.parquet"))
        select = ", ".join(
            f"CAST({_quote(column['Name']) if has_files else 'NULL'} AS "
            f"{duckdb_type(column['Type'])}) AS {_quote(column['Name'])}"
            for column in columns
        )
        name = f"{_quote(database)}.{_quote(table['Name'])}"
        if not has_files:
            return f"CREATE VIEW {name} AS SELECT {select} WHERE false"
        files = str(location / "**" / "*.parquet").replace("'", "''")
        # Names are quoted identifiers and the path a quoted literal, from the catalog.
        return (
            f"CREATE VIEW {name} AS SELECT {select} FROM read_parquet('{files}', "  # noqa: S608
            "hive_partitioning = true, union_by_name = true)"
        )

    def _glue_table(self, database: str, name: str) -> dict[str, Any] | None:
        """The catalog's table, or None (a CTE's name, or a table Athena would not find)."""
        try:
            return self._glue.get_table(DatabaseName=database, Name=name)["Table"]
        except self._glue.exceptions.EntityNotFoundException:
            return None

    def _create_views(
        self,
        connection: duckdb.DuckDBPyConnection,
        tables: set[tuple[str, str]],
        database: str | None,
    ) -> None:
        """A schema a Glue database and a view a table with an S3 location, for the databases
        and tables the query names (reading the whole catalog for each query cost more than
        the query)."""
        connection.execute("SET TimeZone = 'UTC'")
        databases = {name for name, _ in tables} | ({database} if database else set())
        for name in sorted(databases):
            try:
                self._glue.get_database(Name=name)
            except self._glue.exceptions.EntityNotFoundException:
                continue
            connection.execute(f"CREATE SCHEMA {_quote(name)}")
        for database_name, name in sorted(tables):
            table = self._glue_table(database_name, name) if database_name in databases else None
            location = (table or {}).get("StorageDescriptor", {}).get("Location", "")
            if table is not None and S3_URI.fullmatch(location):
                connection.execute(self._view_sql(database_name, table))

    @staticmethod
    def _duckdb_sql(query: str, database: str | None) -> tuple[str, set[tuple[str, str]]]:
        """The Trino query as DuckDB SQL, Athena's catalog name dropped from table names, and
        the (database, table) pairs it names (``database`` where it names none)."""
        try:
            tree = sqlglot.parse_one(query, read=SOURCE_DIALECT)
        except sqlglot.errors.ParseError as exc:
            raise QueryFailed(f"SYNTAX_ERROR: {str(exc).splitlines()[0]}") from None
        tables = set()
        for table in tree.find_all(exp.Table):
            if table.catalog.lower() == ATHENA_CATALOG:
                table.set("catalog", None)
            if table.db or database:
                tables.add((table.db or database, table.name))
        return tree.sql(dialect="duckdb"), tables

    def run(self, query: str, database: str | None) -> QueryResult:
        """Run ``query`` (Trino SQL) with ``database`` as the default schema."""
        sql, tables = self._duckdb_sql(query, database)
        with self._mirror.synced(push=False):
            connection = duckdb.connect()
            try:
                self._create_views(connection, tables, database)
                if database:
                    connection.execute(f"USE {_quote(database)}")
                cursor = connection.execute(sql)
                description = cursor.description or []
                rows = cursor.fetchall()
            except duckdb.Error as exc:
                raise QueryFailed(str(exc).splitlines()[0]) from None
            finally:
                connection.close()
        answer = self._faults.answer(query)
        return QueryResult(
            columns=tuple(column[0] for column in description),
            types=tuple(_athena_type(str(column[1])) for column in description),
            rows=answer
            if answer is not None
            else tuple(tuple(_athena_text(value) for value in row) for row in rows),
        )

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Moto's Athena running queries here, and reporting why one failed."""
        engine = self
        start_query_execution = AthenaBackend.start_query_execution
        get_query_execution = AthenaResponse.get_query_execution

        def start(backend: AthenaBackend, query: str, context: Any, *args: Any, **kw: Any) -> str:
            query_id = start_query_execution(backend, query, context, *args, **kw)
            execution = backend.executions[query_id]
            database = context.get("Database") if isinstance(context, dict) else None
            try:
                if execution.execution_parameters:
                    raise QueryFailed("ExecutionParameters are not emulated")
                result = engine.run(query, database)
            except QueryFailed as exc:
                execution.status = "FAILED"
                execution.state_change_reason = str(exc)
            else:
                backend.query_results[query_id] = QueryResults(
                    rows=result.athena_rows(), column_info=result.column_info()
                )
                execution.status = "SUCCEEDED"
            return query_id

        def describe(response: AthenaResponse) -> str:
            described = json.loads(get_query_execution(response))
            execution = response.athena_backend.executions[
                described["QueryExecution"]["QueryExecutionId"]
            ]
            reason = getattr(execution, "state_change_reason", None)
            if reason:
                described["QueryExecution"]["Status"]["StateChangeReason"] = reason
            return json.dumps(described)

        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(AthenaBackend, "start_query_execution", start))
            stack.enter_context(mock.patch.object(AthenaResponse, "get_query_execution", describe))
            yield
