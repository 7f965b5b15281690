"""Running one query on Athena in the environment's workgroup, with a bounded wait."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from botocore.client import BaseClient
from sqlglot import exp

from dataops.data_tests import SOURCE_DIALECT
from dataops.integration.pacing import Pacing

RUNNING_STATES = frozenset({"QUEUED", "RUNNING"})
SUCCEEDED = "SUCCEEDED"
Row = tuple[str | None, ...]


class QueryError(Exception):
    """The query failed, was cancelled or did not finish in time."""


@dataclass(frozen=True)
class AthenaTarget:
    """Where queries run: the environment's catalog database, workgroup and result bucket."""

    database: str
    workgroup: str
    output_location: str
    timeout_seconds: float
    poll_seconds: float


def qualify(sql: str, database: str) -> str:
    """Prefix every bare table name (CTEs excepted) with ``database``, in Trino SQL."""
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name not in ctes:
            table.set("db", exp.to_identifier(database))
    return tree.sql(dialect=SOURCE_DIALECT)


def _wait(athena: BaseClient, query_id: str, target: AthenaTarget, pacing: Pacing) -> None:
    deadline = pacing.clock() + target.timeout_seconds
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        state = status["State"]
        if state == SUCCEEDED:
            return
        if state not in RUNNING_STATES:
            reason = status.get("StateChangeReason") or "no reason given"
            raise QueryError(f"{state}: {reason}")
        remaining = deadline - pacing.clock()
        if remaining <= 0:
            athena.stop_query_execution(QueryExecutionId=query_id)
            raise QueryError(f"still {state} after {target.timeout_seconds:.0f} s; cancelled")
        pacing.sleep(min(target.poll_seconds, remaining))


def _values(row: dict) -> Row:
    return tuple(datum.get("VarCharValue") for datum in row["Data"])


def run_query(athena: BaseClient, target: AthenaTarget, sql: str, pacing: Pacing) -> list[Row]:
    """Run ``sql`` and return its rows as Athena's strings (None for NULL), header dropped."""
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": target.database},
        WorkGroup=target.workgroup,
        ResultConfiguration={"OutputLocation": target.output_location},
    )["QueryExecutionId"]
    _wait(athena, query_id, target, pacing)
    rows: list[Row] = []
    first_page = True
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        result_set = page["ResultSet"]
        page_rows = [_values(row) for row in result_set.get("Rows", [])]
        if first_page and page_rows:
            labels = tuple(
                column.get("Label", column.get("Name"))
                for column in result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            )
            if page_rows[0] == labels:
                page_rows = page_rows[1:]
        first_page = False
        rows.extend(page_rows)
    return rows
