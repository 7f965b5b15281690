"""Staging job: raw flow-log text to typed rows, every unparseable line to quarantine.

Each file is read whole (gzip or plain) so that its header and line numbers are known; lines
are parsed by the file's own header, never by position, with Spark SQL expressions only (no
Python UDFs). The files are grouped by header (read from their first lines on the driver), and
each group is parsed with its header's field positions as literals. A line fails for the first
of these reasons, in this order: missing_required_fields (the whole file, one reason),
wrong_field_count, not_an_integer, missing_value, unknown_log_status, unknown_action,
end_before_start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame, Observation, SparkSession
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


def read_raw_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    """One row a line: source_file, line_number (header = 1), raw_line."""
    # Carriage returns are dropped; the scan for one is much cheaper than an empty replace.
    value = F.col("value")
    whole = spark.read.text(files, wholetext=True).select(
        F.input_file_name().alias("source_file"),
        F.when(value.contains("\r"), F.replace(value, F.lit("\r"), F.lit("")))
        .otherwise(value)
        .alias("text"),
    )
    return whole.select(
        "source_file", F.posexplode(F.split("text", "\n")).alias("position", "raw_line")
    ).select(
        "source_file",
        (F.col("position") + 1).cast("bigint").alias("line_number"),
        "raw_line",
    )


def _token(header: tuple[str, ...], name: str) -> Column:
    """The raw token of header field ``name`` on this line; null if absent or '-'.

    A plain array index (null past the end, like ``element_at``) compiles to less code, which
    keeps the parse of wide headers within the size the JVM's JIT compiles.
    """
    if name not in header:
        return F.lit(None).cast("string")
    token = F.col("tokens").getItem(header.index(name))
    return F.when(token != F.lit(MISSING), token)


def _field(name: str) -> Column:
    return F.col(f"_f_{column_name(name)}")


def split_fields(lines: DataFrame, header: tuple[str, ...]) -> DataFrame:
    """The data lines of files with this ``header``, each field looked up once a line.

    Field positions are literals of the header, so Spark compiles plain array lookups. Besides
    the fields, a row carries what the checks need to know of its header (``_expected``,
    ``_header_lacks``) and the fields of the header this job does not know (``_extra_fields``).
    """
    missing_required = [name for name in REQUIRED_FIELDS if name not in header]
    extra_positions = {
        name: position for position, name in enumerate(header) if name not in KNOWN_FIELDS
    }
    extras = F.create_map(
        *[
            part
            for name, position in extra_positions.items()
            for part in (F.lit(name), F.col("tokens").getItem(position))
        ]
    ).cast("map<string,string>")
    # Split on single spaces and drop the empty tokens between runs of them: the same tokens as
    # splitting on " +", without a regular expression.
    data = lines.where((F.col("line_number") > 1) & (F.trim("raw_line") != "")).withColumn(
        "tokens", F.array_remove(F.split(F.trim("raw_line"), " "), "")
    )
    return data.select(
        "source_file",
        "line_number",
        "raw_line",
        F.size("tokens").alias("_found"),
        F.lit(len(header)).alias("_expected"),
        F.lit(", ".join(missing_required) or None).cast("string").alias("_header_lacks"),
        extras.alias("_extra_fields"),
        *[_token(header, name).alias(f"_f_{column_name(name)}") for name in KNOWN_FIELDS],
    )


def _integer_problem(name: str) -> Column:
    digits = MAX_DIGITS[INTEGER_FIELDS[name]]
    token = _field(name)
    return F.when(token.isNotNull() & ~token.rlike(rf"^[0-9]{{1,{digits}}}$"), F.lit(name))


def _reason_and_detail() -> tuple[Column, Column]:
    expected = F.col("_expected")
    found = F.col("_found")
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
            F.col("_header_lacks").isNotNull(),
            "missing_required_fields",
            F.concat(F.lit("header lacks "), F.col("_header_lacks")),
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


def check_lines(fields: DataFrame, context: JobContext) -> StagingOutput:
    """Staged rows and quarantined lines of data lines as :func:`split_fields` returns them.

    The fields are observed (counting the lines read) before any check: besides the count, this
    keeps Spark from pushing the checks below the lookup, where every reference to a field
    would repeat the lookup and the generated code would outgrow what the JIT compiles.
    """
    observation = Observation(_LINES_READ)
    observed = fields.observe(observation, F.count(F.lit(1)).alias(_LINES_READ))
    reason, detail = _reason_and_detail()
    checked = observed.withColumn("reason", reason).withColumn("detail", detail)
    ingested_at = F.lit(context.started_at).cast("timestamp")
    batch = F.lit(context.batch_id)
    staged_columns = [
        _field(name).cast(INTEGER_FIELDS.get(name, "string")).alias(column_name(name))
        for name in KNOWN_FIELDS
    ]
    staged = checked.where(F.col("reason").isNull()).select(
        *staged_columns,
        F.col("_extra_fields").alias("extra_fields"),
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


def run(spark: SparkSession, context: JobContext) -> JobResult:
    """Stage the raw files no earlier successful run processed."""
    apply_job_settings(spark)
    storage = storage_for(context.raw_uri)
    ledger = BatchLedger(storage_for(context.state_uri), context.state_uri)
    new_files = sorted(set(storage.list_files(context.raw_uri)) - ledger.processed_files())
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
