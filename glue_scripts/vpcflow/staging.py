"""The flow-log parser: raw flow-log text to typed rows, every unparseable line to quarantine.

The framework (:mod:`jobkit.raw_staging`) lists the objects, reads each whole and handles the
ones it cannot read; this module parses the text. Lines are parsed by their object's own header,
never by position, with Spark SQL expressions only (no Python UDFs): objects are grouped by
header (their first line, read on the driver), and each group is parsed with its header's field
positions as literals. An object whose first line is not a header is quarantined whole
(``missing_header``). A line fails for the first of these reasons, in this order:
missing_required_fields (its header lacks one), wrong_field_count, not_an_integer,
missing_value, unknown_log_status, unknown_action, end_before_start, date_out_of_range (a flow
dated on a day Athena does not project).

The expressions are written as Spark SQL text and handed to Spark a whole select list at a
time: built column by column through the Python API, every function and literal is a round trip
to the JVM, thousands of them for the wide parse, which took longer than parsing a small batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from functools import reduce

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from jobkit.partitions import OUT_OF_RANGE, PARTITION_FLOOR, visible_range_sql
from jobkit.raw_staging import ObjectProblem, ParsedRecords, first_failure
from vpcflow.flowlog_format import (
    ACTIONS,
    INTEGER_FIELDS,
    KNOWN_FIELDS,
    LOG_STATUSES,
    MAX_DIGITS,
    MISSING,
    REQUIRED_FIELDS,
    column_name,
)

MISSING_HEADER = "missing_header"
RECORDS = "records"
_QUARANTINED = "lines_quarantined"


def parse_header(first_line: str) -> tuple[str, ...]:
    """A file's field names from its first line (split on runs of spaces, ``\\r`` dropped)."""
    return tuple(re.split(" +", first_line.replace("\r", "").strip(" ")))


def _sql_string(text: str) -> str:
    """``text`` as a Spark SQL string literal (header names come from the files)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_strings(values: tuple[str, ...]) -> str:
    return ", ".join(_sql_string(value) for value in values)


def read_raw_lines(texts: DataFrame) -> DataFrame:
    """One row a line of each object: source_file, line_number (header = 1), raw_line."""
    # Carriage returns are dropped; the scan for one is much cheaper than an empty replace.
    return (
        texts.selectExpr(
            "source_file",
            "CASE WHEN contains(text, '\\r') THEN replace(text, '\\r', '') ELSE text END AS text",
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


def _checks(run_date: dt.date) -> list[tuple[str, str, str]]:
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
    day = f"to_date(timestamp_seconds({start}))"
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
        (
            f"NOT {visible_range_sql(day, run_date)}",
            OUT_OF_RANGE,
            f"format_string('flow dated %s, outside the days Athena projects (%s to %s)', "
            f"CAST({day} AS STRING), '{PARTITION_FLOOR.isoformat()}', '{run_date.isoformat()}')",
        ),
    ]


def check_lines(fields: DataFrame, run_date: dt.date) -> ParsedRecords:
    """Staged rows and quarantined lines of data lines as :func:`split_fields` returns them.

    The fields are observed (counting the lines read) before any check: besides the count, this
    keeps Spark from pushing the checks below the lookup, where every reference to a field
    would repeat the lookup and the generated code would outgrow what the JIT compiles. For
    the same reason the quarantined lines are observed (counted) once found, before their
    detail is built: checking every line and describing the failures in one generated method
    was too large for the JIT (C1 gives up, out of virtual registers), so the checks of a
    million lines ran interpreted, for the sake of the few thousand that fail.
    """
    observation = Observation(RECORDS)
    observed = fields.observe(observation, F.count(F.lit(1)).alias(RECORDS))
    reason, detail = first_failure(
        [(condition, f"'{code}'", text) for condition, code, text in _checks(run_date)]
    )
    staged = observed.where(f"({reason}) IS NULL").selectExpr(
        *[
            f"CAST({_field(name)} AS {INTEGER_FIELDS.get(name, 'string')}) AS {column_name(name)}"
            for name in KNOWN_FIELDS
        ],
        "_extra_fields AS extra_fields",
        "source_file",
        "line_number",
        f"to_date(timestamp_seconds(CAST({_field('start')} AS BIGINT))) AS dt",
    )
    failed = observed.where(f"({reason}) IS NOT NULL").observe(
        Observation(_QUARANTINED), F.count(F.lit(1)).alias(_QUARANTINED)
    )
    quarantined = failed.selectExpr(
        "source_file", "line_number", "raw_line", f"{reason} AS reason", f"{detail} AS detail"
    )
    return ParsedRecords(staged=staged, quarantined=quarantined, records_read=observation)


class FlowLogParser:
    """The flow-log format for :mod:`jobkit.raw_staging`: objects grouped by header."""

    def classify(self, first_line: str) -> Hashable | ObjectProblem:
        header = parse_header(first_line)
        # A header names at least one field AWS defines; no value of a data line is a field name.
        if set(header) & set(KNOWN_FIELDS):
            return header
        return ObjectProblem(
            MISSING_HEADER, f"first line is not a flow-log header: '{first_line[:80]}'"
        )

    def parse(self, texts: dict[Hashable, DataFrame], run_date: dt.date) -> ParsedRecords:
        """Parse each group of objects by its own header, then check all lines together."""
        fields = [
            split_fields(read_raw_lines(frame), header)  # type: ignore[arg-type]
            for header, frame in sorted(texts.items())  # type: ignore[type-var]
        ]
        return check_lines(reduce(DataFrame.union, fields), run_date)


PARSER = FlowLogParser()
