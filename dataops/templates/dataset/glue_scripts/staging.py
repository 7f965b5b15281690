"""The $name parser: JSON Lines text to typed rows, every unparseable line to quarantine.

The framework (:mod:`jobkit.raw_staging`) lists the objects, reads each whole and quarantines
those it cannot read; this module parses the text with Spark SQL expressions (no Python UDFs).
A line fails for the first of these reasons: invalid_json, missing_time (no parsable ``time``),
date_out_of_range (a day Athena does not project).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from functools import reduce

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from jobkit.partitions import OUT_OF_RANGE, visible_range_sql
from jobkit.raw_staging import ObjectProblem, ParsedRecords

RECORDS = "records"
GROUP = "json_lines"
# The fields read from each line; the whole line is kept as payload.
LINE_SCHEMA = "time STRING, type STRING"


class JsonLinesParser:
    """JSON Lines for :mod:`jobkit.raw_staging`: one group, every object parsed alike."""

    def classify(self, first_line: str) -> Hashable | ObjectProblem:
        if first_line.lstrip().startswith("{"):
            return GROUP
        return ObjectProblem(
            "not_json_lines", f"first line is not a JSON object: '{first_line[:80]}'"
        )

    def parse(self, texts: dict[Hashable, DataFrame], run_date: dt.date) -> ParsedRecords:
        lines = (
            reduce(DataFrame.union, texts.values())
            .selectExpr("source_file", "posexplode(split(text, '\\n')) AS (position, raw_line)")
            .where("trim(raw_line) != ''")
            .selectExpr(
                "source_file",
                "CAST(position + 1 AS BIGINT) AS line_number",
                "raw_line",
                f"from_json(raw_line, '{LINE_SCHEMA}') AS record",
            )
            .selectExpr("*", "to_timestamp(record.time) AS event_time")
        )
        observation = Observation(RECORDS)
        observed = lines.observe(observation, F.count(F.lit(1)).alias(RECORDS))
        day = "to_date(event_time)"
        reason = (
            # from_json reads malformed text as a record of nulls; get_json_object says null.
            "CASE WHEN get_json_object(raw_line, '$$') IS NULL THEN 'invalid_json' "
            "WHEN event_time IS NULL THEN 'missing_time' "
            f"WHEN NOT {visible_range_sql(day, run_date)} THEN '{OUT_OF_RANGE}' END"
        )
        checked = observed.selectExpr("*", f"{reason} AS reason")
        staged = checked.where("reason IS NULL").selectExpr(
            "event_time",
            "record.type AS event_type",
            "raw_line AS payload",
            "source_file",
            "line_number",
            f"{day} AS dt",
        )
        quarantined = checked.where("reason IS NOT NULL").selectExpr(
            "source_file",
            "line_number",
            "raw_line",
            "reason",
            "concat('line ', line_number, ': ', reason) AS detail",
        )
        return ParsedRecords(staged=staged, quarantined=quarantined, records_read=observation)


PARSER = JsonLinesParser()
