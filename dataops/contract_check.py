"""Checks a table's Parquet output against its contract: names, types and nullability."""

from __future__ import annotations

from typing import Any

from dataops.contracts import Contract

# Spark's simpleString for the Glue types whose spelling differs.
_SPARK_SPELLING = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}


def _spark_type(simple_string: str) -> str:
    return _SPARK_SPELLING.get(simple_string, simple_string)


def check_table(spark: Any, contract: Contract, location: str) -> list[str]:
    """One line a mismatch, each naming the table and the column."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(location)
    actual = {field.name: _spark_type(field.dataType.simpleString()) for field in frame.schema}
    problems = []
    for column in contract.columns:
        if column.name not in actual:
            problems.append(f"{contract.name}.{column.name}: missing from the output")
        elif actual[column.name] != column.type:
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
        nulls = frame.select(
            *[F.sum(F.col(name).isNull().cast("int")).alias(name) for name in required]
        ).first()
        problems.extend(
            f"{contract.name}.{name}: {nulls[name]} null value(s) in a non-nullable column"
            for name in required
            if nulls[name]
        )
    return problems
