"""Reading a table's files and writing a job's output the way its contract declares it."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StructType, TimestampType

ROWS = "rows"


@functools.cache
def struct(ddl: str) -> StructType:
    """A schema from Spark DDL (``a INT, b STRING``); needs the active SparkContext. Kept per
    DDL text: parsing it takes several JVM round trips, and a run asks for the same few."""
    from pyspark.sql.types import _parse_datatype_string

    schema = _parse_datatype_string(ddl)
    if not isinstance(schema, StructType):
        raise ValueError(f"not a list of columns: {ddl}")
    return schema


def _json_value(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"no JSON form for {type(value).__name__}: {value!r}")


def local_rows(spark: SparkSession, rows: Iterable[Sequence[object]], ddl: str) -> DataFrame:
    """``rows`` (values in the DDL's column order) as a frame the JVM builds from one JSON
    literal. ``spark.createDataFrame`` sends local rows through Python worker processes, one
    per task, each paying its start-up for a handful of rows; this plan never leaves the JVM,
    in Glue as locally. A value that does not fit its column fails the query (FAILFAST)."""
    schema = struct(ddl)
    names = [field.name for field in schema.fields]
    text = json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=_json_value)
    parsed = F.from_json(F.lit(text), ArrayType(schema), {"mode": "FAILFAST"})
    return spark.range(1).select(F.inline(parsed))


class SchemaMismatch(ValueError):
    """A job's output does not have its contract's columns."""


def conform(frame: DataFrame, table: str, ddl: str) -> DataFrame:
    """``frame`` with exactly the contract's columns, in its order and of its types."""
    schema = struct(ddl)
    produced = set(frame.columns)
    declared = [field.name for field in schema.fields]
    missing = [name for name in declared if name not in produced]
    extra = sorted(produced - set(declared))
    if missing or extra:
        problems = [
            *(f"lacks column {name}" for name in missing),
            *(f"has column {name} the contract does not declare" for name in extra),
        ]
        raise SchemaMismatch(
            f"output of {table} {'; '.join(problems)}; fix: make the job produce exactly the "
            f"columns of its contract ({', '.join(declared)})"
        )
    # One SQL select list: a Column cast to a DataType costs PySpark about ten JVM round trips
    # (it looks up the active session and parses the type as JSON), a column at a time.
    return frame.selectExpr(
        *(f"CAST(`{f.name}` AS {f.dataType.simpleString()}) AS `{f.name}`" for f in schema.fields)
    )


def write(frame: DataFrame, location: str, *, append: bool = False) -> Observation:
    """Write ``frame`` by ``dt``; the observation counts the rows as they are written
    (``rows``), so the frame is computed once and never cached.

    Timestamp columns are written without a dictionary: Spark stores them as 12-byte INT96
    values, whose dictionary is slow to build and, for per-flow times, is dropped by Parquet
    anyway once it fills."""
    observation = Observation(f"written-{location}")
    writer = (
        frame.observe(observation, F.count(F.lit(1)).alias(ROWS))
        .write.mode("append" if append else "overwrite")
        .partitionBy("dt")
    )
    for field in frame.schema.fields:
        if isinstance(field.dataType, TimestampType):
            writer = writer.option(f"parquet.enable.dictionary#{field.name}", "false")
    writer.parquet(location)
    return observation


def observed(observation: Observation, name: str) -> Any:
    """The metric ``name`` of an observation, once its frame has been computed.

    ``Observation.get`` copies the whole Java map by iterating it, and py4j ends an iteration
    with a Java exception that PySpark then classifies: about sixty JVM round trips a call.
    The map is read by key here instead (waiting, like ``get``, for the metrics)."""
    return observation._jo.getAsJava().get(name)


def rows_written(observation: Observation) -> int:
    return int(observed(observation, ROWS))


def read_files(spark: SparkSession, location: str, files: list[str]) -> DataFrame:
    """The rows of ``files`` of the table at ``location``, with its ``dt`` partition column."""
    return spark.read.option("basePath", location).parquet(*files)
