"""Staging job: raw flow-log text to typed rows, every unparseable line to quarantine.

Each file is read whole (gzip or plain) so that its header and line numbers are known; lines
are parsed by the file's own header, never by position, with Spark SQL expressions only (no
Python UDFs). The files are grouped by header (read from their first lines on the driver), and
each group is parsed with its header's field positions as literals. A line fails for the first
of these reasons, in this order: missing_required_fields (the whole file, one reason),
wrong_field_count, not_an_integer, missing_value, unknown_log_status, unknown_action,
end_before_start.

The expressions are written as Spark SQL text and handed to Spark a whole select list at a
time: built column by column through the Python API, every function and literal is a round trip
to the JVM, thousands of them for the wide parse, which took longer than parsing a small batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from vpcflow_jobs.context import QUARANTINE_TABLE, JobContext, JobResult
from vpcflow_jobs.flowlog_format import (
    ACTIONS,
    INTEGER_FIELDS,
    KNOWN_FIELDS,
    LOG_STATUSES,
    MAX_DIGITS,
    MISSING,
    REQUIRED_FIELDS,
    column_name,
)
from vpcflow_jobs.session import apply_job_settings
from vpcflow_jobs.storage import BatchLedger, Storage, first_lines, storage_for

JOB_NAME = "staging"
STAGING_TABLE = "staging_raw_vpcflowlogs"
_PATH_DATE = r"/(\d{4})/(\d{2})/(\d{2})/[^/]+$"
_LINES_READ = "lines_read"
_LINES_QUARANTINED = "lines_quarantined"


@dataclass(frozen=True)
class StagingOutput:
    """The two outputs, and the data lines read (known once one output has been computed)."""

    staged: DataFrame
    quarantined: DataFrame
    observation: Observation

    def lines_read(self) -> int:
        return int(self.observation.get[_LINES_READ])


def parse_header(first_line: str) -> tuple[str, ...]:
    """A file's field names from its first line (split on runs of spaces, ``\\r`` dropped)."""
    return tuple(re.split(" +", first_line.replace("\r", "").strip(" ")))


def _sql_string(text: str) -> str:
    """``text`` as a Spark SQL string literal (header names come from the files)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_strings(values: tuple[str, ...]) -> str:
    return ", ".join(_sql_string(value) for value in values)


def read_raw_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    """One row a line: source_file, line_number (header = 1), raw_line."""
    # Carriage returns are dropped; the scan for one is much cheaper than an empty replace.
    return (
        spark.read.text(files, wholetext=True)
        .selectExpr(
            "input_file_name() AS source_file",
            "CASE WHEN contains(value, '\\r') THEN replace(value, '\\r', '') ELSE value END"
            " AS text",
        )
        .selectExpr("source_file", "posexplode(split(text, '\\n')) AS (position, raw_line)")
        .selectExpr("source_file", "CAST(position + 1 AS BIGINT) AS line_number", "raw_line")
    )


def _token(header: tuple[str, ...], name: str) -> str:
    """The raw token of header field ``name`` on this line; null if absent or '-'.

    A plain array index (null past the end, like ``element_at``) compiles to less code, which
    keeps the parse of wide headers within the size the JVM's JIT compiles.
    """
    if name not in header:
        return "CAST(NULL AS STRING)"
    token = f"tokens[{header.index(name)}]"
    return f"CASE WHEN {token} != {_sql_string(MISSING)} THEN {token} END"


def _field(name: str) -> str:
    return f"_f_{column_name(name)}"


def split_fields(lines: DataFrame, header: tuple[str, ...]) -> DataFrame:
    """The data lines of files with this ``header``, each field looked up once a line.

    Field positions are literals of the header, so Spark compiles plain array lookups. Besides
    the fields, a row carries what the checks need to know of its header (``_expected``,
    ``_header_lacks``) and the fields of the header this job does not know (``_extra_fields``).
    """
    missing_required = [name for name in REQUIRED_FIELDS if name not in header]
    lacks = _sql_string(", ".join(missing_required)) if missing_required else "NULL"
    extras = ", ".join(
        f"{_sql_string(name)}, tokens[{position}]"
        for position, name in enumerate(header)
        if name not in KNOWN_FIELDS
    )
    # Split on single spaces and drop the empty tokens between runs of them: the same tokens as
    # splitting on " +", without a regular expression.
    data = lines.where("line_number > 1 AND trim(raw_line) != ''").selectExpr(
        "source_file",
        "line_number",
        "raw_line",
        "array_remove(split(trim(raw_line), ' '), '') AS tokens",
    )
    return data.selectExpr(
        "source_file",
        "line_number",
        "raw_line",
        "size(tokens) AS _found",
        f"{len(header)} AS _expected",
        f"CAST({lacks} AS STRING) AS _header_lacks",
        f"CAST(map({extras}) AS MAP<STRING, STRING>) AS _extra_fields",
        *[f"{_token(header, name)} AS {_field(name)}" for name in KNOWN_FIELDS],
    )


def _integer_problem(name: str) -> str:
    """The field's name when its token is present but not 1 to MAX_DIGITS digits."""
    digits = MAX_DIGITS[INTEGER_FIELDS[name]]
    token = _field(name)
    pattern = _sql_string(f"^[0-9]{{1,{digits}}}$")
    problem = f"{token} IS NOT NULL AND NOT {token} RLIKE {pattern}"
    return f"CASE WHEN {problem} THEN {_sql_string(name)} END"


def _checks() -> list[tuple[str, str, str]]:
    """(condition, reason code, detail) of every check, in the order they apply."""
    bad_integer = f"coalesce({', '.join(_integer_problem(name) for name in INTEGER_FIELDS)})"
    bad_integer_detail = "coalesce({})".format(
        ", ".join(
            f"CASE WHEN {_integer_problem(name)} IS NOT NULL THEN "
            f"format_string('%s is \\'%s\\'', {_sql_string(name)}, {_field(name)}) END"
            for name in INTEGER_FIELDS
        )
    )
    missing_value = "coalesce({})".format(
        ", ".join(
            f"CASE WHEN {_field(name)} IS NULL THEN {_sql_string(name)} END"
            for name in ("version", "start", "end")
        )
    )
    status, action = _field("log-status"), _field("action")
    start, end = f"CAST({_field('start')} AS BIGINT)", f"CAST({_field('end')} AS BIGINT)"
    missing = _sql_string(MISSING)
    return [
        (
            "_header_lacks IS NOT NULL",
            "missing_required_fields",
            "concat('header lacks ', _header_lacks)",
        ),
        (
            "_found != _expected",
            "wrong_field_count",
            "format_string('expected %d fields, found %d', _expected, _found)",
        ),
        (f"{bad_integer} IS NOT NULL", "not_an_integer", bad_integer_detail),
        (
            f"{missing_value} IS NOT NULL",
            "missing_value",
            f"concat({missing_value}, ' is \\'-\\'')",
        ),
        (
            f"{status} IS NULL OR NOT {status} IN ({_sql_strings(LOG_STATUSES)})",
            "unknown_log_status",
            f"concat('log-status \\'', coalesce({status}, {missing}), '\\'')",
        ),
        (
            f"({action} IS NULL AND {status} = 'OK') "
            f"OR ({action} IS NOT NULL AND NOT {action} IN ({_sql_strings(ACTIONS)}))",
            "unknown_action",
            f"concat('action \\'', coalesce({action}, {missing}), '\\'')",
        ),
        (
            f"{end} < {start}",
            "end_before_start",
            f"format_string('end %d is before start %d', {end}, {start})",
        ),
    ]


def _reason_and_detail() -> tuple[str, str]:
    """The first failing check's reason code and detail (both null for a valid line)."""
    checks = _checks()
    reason = " ".join(f"WHEN {condition} THEN '{code}'" for condition, code, _ in checks)
    detail = " ".join(f"WHEN {condition} THEN {text}" for condition, _, text in checks)
    return f"CASE {reason} END", f"CASE {detail} END"


def check_lines(fields: DataFrame, context: JobContext) -> StagingOutput:
    """Staged rows and quarantined lines of data lines as :func:`split_fields` returns them.

    The fields are observed (counting the lines read) before any check: besides the count, this
    keeps Spark from pushing the checks below the lookup, where every reference to a field
    would repeat the lookup and the generated code would outgrow what the JIT compiles. For
    the same reason the quarantined lines are observed (counted) once found, before their
    detail is built: checking every line and describing the failures in one generated method
    was too large for the JIT (C1 gives up, out of virtual registers), so the checks of a
    million lines ran interpreted, for the sake of the few thousand that fail.
    """
    observation = Observation(_LINES_READ)
    observed = fields.observe(observation, F.count(F.lit(1)).alias(_LINES_READ))
    reason, detail = _reason_and_detail()
    loaded = observed.select(
        "*",
        F.lit(context.started_at).cast("timestamp").alias("_ingested_at"),
        F.lit(context.batch_id).alias("_batch_id"),
    )
    staged = loaded.where(f"({reason}) IS NULL").selectExpr(
        *[
            f"CAST({_field(name)} AS {INTEGER_FIELDS.get(name, 'string')}) AS {column_name(name)}"
            for name in KNOWN_FIELDS
        ],
        "_extra_fields AS extra_fields",
        "source_file",
        "line_number",
        "_ingested_at AS ingested_at",
        "_batch_id AS ingest_batch_id",
        f"to_date(timestamp_seconds(CAST({_field('start')} AS BIGINT))) AS dt",
    )
    path_date = "to_date(concat_ws('-', {}))".format(
        ", ".join(
            f"regexp_extract(source_file, {_sql_string(_PATH_DATE)}, {group})"
            for group in (1, 2, 3)
        )
    )
    failed = loaded.where(f"({reason}) IS NOT NULL").observe(
        Observation(_LINES_QUARANTINED), F.count(F.lit(1)).alias(_LINES_QUARANTINED)
    )
    quarantined = failed.selectExpr(
        "source_file",
        "line_number",
        "raw_line",
        f"{reason} AS reason",
        f"{detail} AS detail",
        "_ingested_at AS ingested_at",
        "_batch_id AS ingest_batch_id",
        f"coalesce({path_date}, to_date(_ingested_at)) AS dt",
    )
    return StagingOutput(staged=staged, quarantined=quarantined, observation=observation)


def files_by_header(storage: Storage, files: list[str]) -> dict[tuple[str, ...], list[str]]:
    """The files grouped by their header (most share the default format), in a stable order."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for uri, line in first_lines(storage, files).items():
        groups.setdefault(parse_header(line), []).append(uri)
    return dict(sorted(groups.items()))


def stage_files(
    spark: SparkSession, groups: dict[tuple[str, ...], list[str]], context: JobContext
) -> StagingOutput:
    """Parse each group of files by its own header, then check all lines together."""
    fields = [
        split_fields(read_raw_lines(spark, files), header) for header, files in groups.items()
    ]
    return check_lines(reduce(DataFrame.union, fields), context)


def _landed(spark: SparkSession, location: str, batch_id: str) -> tuple[int, list[str]]:
    """Rows of this batch as written to disk, and their partitions (counted back, not assumed)."""
    rows = (
        spark.read.parquet(location)
        .where(F.col("ingest_batch_id") == batch_id)
        .groupBy("dt")
        .count()
        .collect()
    )
    return sum(row["count"] for row in rows), sorted(str(row["dt"]) for row in rows)


def _pending(storage: Storage, ledger: BatchLedger, context: JobContext) -> list[str]:
    return sorted(set(storage.list_files(context.raw_uri)) - ledger.processed_files())


def pending_raw_files(context: JobContext) -> list[str]:
    """The raw files the next run stages: those no earlier successful run processed."""
    ledger = BatchLedger(storage_for(context.state_uri), context.state_uri)
    return _pending(storage_for(context.raw_uri), ledger, context)


def run(spark: SparkSession, context: JobContext) -> JobResult:
    """Stage the raw files no earlier successful run processed."""
    apply_job_settings(spark)
    storage = storage_for(context.raw_uri)
    ledger = BatchLedger(storage_for(context.state_uri), context.state_uri)
    new_files = _pending(storage, ledger, context)
    if not new_files:
        return JobResult(job=JOB_NAME, rows_in=0, rows_out=0)
    output = stage_files(spark, files_by_header(storage, new_files), context)
    output.staged.write.mode("append").partitionBy("dt").parquet(context.table_uri(STAGING_TABLE))
    output.quarantined.write.mode("append").partitionBy("dt").parquet(
        context.table_uri(QUARANTINE_TABLE)
    )
    lines_read = output.lines_read()
    rows_out, dts = _landed(spark, context.table_uri(STAGING_TABLE), context.batch_id)
    rows_quarantined, _ = _landed(spark, context.table_uri(QUARANTINE_TABLE), context.batch_id)
    ledger.record(
        JOB_NAME,
        context.batch_id,
        dts,
        {"files": len(new_files), "staged": rows_out, "quarantined": rows_quarantined},
    )
    ledger.add_processed_files(new_files)
    return JobResult(
        job=JOB_NAME,
        rows_in=lines_read,
        rows_out=rows_out,
        rows_quarantined=rows_quarantined,
        partitions=tuple(sorted(dts)),
    )
