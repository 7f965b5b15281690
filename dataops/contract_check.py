"""Checks a table's Parquet files against its contract: names, types and nullability.

The files are read by DuckDB, as the data tests are: the check reads Parquet footers and one
column scan, in milliseconds, where Spark would plan and schedule two jobs per table. What it
checks is the physical Parquet schema, which is what Athena reads after a deploy.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlglot import exp

from dataops.contracts import Contract


def glue_type(duckdb_type: str) -> str:
    """A DuckDB column type as the Glue (Hive) type a contract spells."""
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql("hive").lower().replace(" ", "")


def check_table(contract: Contract, location: Path) -> list[str]:
    """One line a mismatch, each naming the table and the column."""
    relation = duckdb.read_parquet(
        str(location / "**" / "*.parquet"), hive_partitioning=True, union_by_name=True
    )
    columns = zip(relation.columns, relation.types, strict=True)
    actual = {name: glue_type(str(kind)) for name, kind in columns}
    problems = []
    for column in contract.columns:
        if column.name not in actual:
            problems.append(f"{contract.name}.{column.name}: missing from the output")
        elif actual[column.name] != column.type.replace(" ", ""):
            problems.append(
                f"{contract.name}.{column.name}: type {actual[column.name]}, "
                f"contract says {column.type}"
            )
    declared = {column.name for column in contract.columns}
    problems.extend(
        f"{contract.name}.{name}: in the output but not in the contract"
        for name in actual
        if name not in declared
    )
    required = [c.name for c in contract.columns if not c.nullable and c.name in actual]
    if required:
        counts = relation.aggregate(
            ", ".join(f'count(*) - count("{name}") AS "{name}"' for name in required)
        ).fetchall()[0]
        problems.extend(
            f"{contract.name}.{name}: {nulls} null value(s) in a non-nullable column"
            for name, nulls in zip(required, counts, strict=True)
            if nulls
        )
    return problems
