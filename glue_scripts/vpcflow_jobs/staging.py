"""Staging job: raw flow-log text to typed rows, every unparseable line to quarantine.

Each file is read whole (gzip or plain) so that its header and line numbers are known; lines
are parsed by the file's own header, never by position, with Spark SQL expressions only (no
Python UDFs). A line fails for the first of these reasons, in this order:
missing_required_fields (the whole file, one reason), wrong_field_count, not_an_integer,
missing_value, unknown_log_status, unknown_action, end_before_start.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
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
from vpcflow_jobs.storage import BatchLedger, storage_for

JOB_NAME = "staging"
STAGING_TABLE = "staging_raw_vpcflowlogs"
_PATH_DATE = r"/(\d{4})/(\d{2})/(\d{2})/[^/]+$"


@dataclass(frozen=True)
class StagingOutput:
    checked: DataFrame
    staged: DataFrame
    quarantined: DataFrame


def read_raw_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    """One row a line: source_file, line_number (header = 1), raw_line, header (array)."""
    whole = spark.read.text(files, wholetext=True).select(
        F.input_file_name().alias("source_file"), F.regexp_replace("value", "\r", "").alias("text")
    )
    header = F.split(F.trim(F.substring_index("text", "\n", 1)), " +")
    files = with_header_positions(whole.select("source_file", "text", header.alias("header")))
    positions = [_position_column(name) for name in KNOWN_FIELDS]
    return files.select(
        "source_file",
        "header",
        *positions,
        F.posexplode(F.split("text", "\n")).alias("position", "raw_line"),
    ).select(
        "source_file",
        (F.col("position") + 1).cast("bigint").alias("line_number"),
        "raw_line",
        "header",
        *positions,
    )


def with_header_positions(lines: DataFrame) -> DataFrame:
    """Add, from the ``header`` array, the position of every known field (once a file)."""
    return lines.select(
        "*",
        *[
            F.array_position("header", name).cast("int").alias(_position_column(name))
            for name in KNOWN_FIELDS
        ],
    )


def _position_column(name: str) -> str:
    """Per file, the 1-based position of header field ``name`` (0 when absent)."""
    return f"_pos_{column_name(name)}"


def _token(name: str) -> Column:
    """The raw token of header field ``name`` on this line; null if absent or '-'."""
    position = F.col(_position_column(name))
    token = F.when(position > 0, F.element_at("tokens", position))
    return F.when(token != F.lit(MISSING), token)


def _field(name: str) -> Column:
    return F.col(f"_f_{column_name(name)}")


def _integer_problem(name: str) -> Column:
    digits = MAX_DIGITS[INTEGER_FIELDS[name]]
    token = _field(name)
    return F.when(token.isNotNull() & ~token.rlike(rf"^[0-9]{{1,{digits}}}$"), F.lit(name))


def _reason_and_detail(missing_required: Column) -> tuple[Column, Column]:
    expected = F.size("header")
    found = F.size("tokens")
    bad_integer = F.coalesce(*[_integer_problem(name) for name in INTEGER_FIELDS])
    missing_value = F.coalesce(
        *[F.when(_field(name).isNull(), F.lit(name)) for name in ("version", "start", "end")]
    )
    status = _field("log-status")
    action = _field("action")
    start = _field("start").cast("bigint")
    end = _field("end").cast("bigint")
    checks: list[tuple[Column, str, Column]] = [
        (
            F.size(missing_required) > 0,
            "missing_required_fields",
            F.concat(F.lit("header lacks "), F.array_join(missing_required, ", ")),
        ),
        (
            found != expected,
            "wrong_field_count",
            F.format_string("expected %d fields, found %d", expected, found),
        ),
        (bad_integer.isNotNull(), "not_an_integer", _bad_integer_detail()),
        (missing_value.isNotNull(), "missing_value", F.concat(missing_value, F.lit(" is '-'"))),
        (
            status.isNull() | ~status.isin(*LOG_STATUSES),
            "unknown_log_status",
            F.concat(F.lit("log-status '"), F.coalesce(status, F.lit(MISSING)), F.lit("'")),
        ),
        (
            (action.isNull() & (status == "OK")) | (action.isNotNull() & ~action.isin(*ACTIONS)),
            "unknown_action",
            F.concat(F.lit("action '"), F.coalesce(action, F.lit(MISSING)), F.lit("'")),
        ),
        (
            end < start,
            "end_before_start",
            F.format_string("end %d is before start %d", end, start),
        ),
    ]
    reason: Column = F.lit(None).cast("string")
    detail: Column = F.lit(None).cast("string")
    for condition, code, text in reversed(checks):
        reason = F.when(condition, F.lit(code)).otherwise(reason)
        detail = F.when(condition, text).otherwise(detail)
    return reason, detail


def _bad_integer_detail() -> Column:
    return F.coalesce(
        *[
            F.when(
                _integer_problem(name).isNotNull(),
                F.format_string("%s is '%s'", F.lit(name), _field(name)),
            )
            for name in INTEGER_FIELDS
        ]
    )


def parse_lines(lines: DataFrame, context: JobContext) -> StagingOutput:
    """Split raw lines (see :func:`read_raw_lines`) into staged rows and quarantined lines."""
    missing_required = F.array_except(
        F.array(*[F.lit(f) for f in REQUIRED_FIELDS]), F.col("header")
    )
    data = lines.where((F.col("line_number") > 1) & (F.trim("raw_line") != "")).withColumn(
        "tokens", F.split(F.trim("raw_line"), " +")
    )
    # Materialize the tokens once: inlined into every check below, the generated code grows
    # past the JVM's 64 KB method limit and Spark falls back to slow interpretation.
    data = data.select(
        *data.columns, *[_token(name).alias(f"_f_{column_name(name)}") for name in KNOWN_FIELDS]
    ).localCheckpoint(eager=False)
    reason, detail = _reason_and_detail(missing_required)
    checked = data.withColumn("reason", reason).withColumn("detail", detail)
    ingested_at = F.lit(context.started_at).cast("timestamp")
    batch = F.lit(context.batch_id)

    known = F.array(*[F.lit(name) for name in KNOWN_FIELDS])
    extras = F.map_from_entries(
        F.filter(
            F.arrays_zip(F.col("header").alias("name"), F.col("tokens").alias("value")),
            lambda entry: ~F.array_contains(known, entry["name"]),
        )
    )
    staged_columns = [
        _field(name).cast(INTEGER_FIELDS.get(name, "string")).alias(column_name(name))
        for name in KNOWN_FIELDS
    ]
    staged = checked.where(F.col("reason").isNull()).select(
        *staged_columns,
        extras.alias("extra_fields"),
        F.col("source_file"),
        F.col("line_number"),
        ingested_at.alias("ingested_at"),
        batch.alias("ingest_batch_id"),
        F.to_date(F.timestamp_seconds(_field("start").cast("bigint"))).alias("dt"),
    )
    path_date = F.to_date(
        F.concat_ws(
            "-",
            F.regexp_extract("source_file", _PATH_DATE, 1),
            F.regexp_extract("source_file", _PATH_DATE, 2),
            F.regexp_extract("source_file", _PATH_DATE, 3),
        )
    )
    quarantined = checked.where(F.col("reason").isNotNull()).select(
        "source_file",
        "line_number",
        "raw_line",
        "reason",
        "detail",
        ingested_at.alias("ingested_at"),
        batch.alias("ingest_batch_id"),
        F.coalesce(path_date, F.to_date(ingested_at)).alias("dt"),
    )
    return StagingOutput(checked=checked, staged=staged, quarantined=quarantined)


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


def run(spark: SparkSession, context: JobContext) -> JobResult:
    """Stage the raw files no earlier successful run processed."""
    apply_job_settings(spark)
    storage = storage_for(context.raw_uri)
    ledger = BatchLedger(storage_for(context.state_uri), context.state_uri)
    new_files = sorted(set(storage.list_files(context.raw_uri)) - ledger.processed_files())
    if not new_files:
        return JobResult(job=JOB_NAME, rows_in=0, rows_out=0)
    output = parse_lines(read_raw_lines(spark, new_files), context)
    output.staged.write.mode("append").partitionBy("dt").parquet(context.table_uri(STAGING_TABLE))
    output.quarantined.write.mode("append").partitionBy("dt").parquet(
        context.table_uri(QUARANTINE_TABLE)
    )
    lines_read = output.checked.count()
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
