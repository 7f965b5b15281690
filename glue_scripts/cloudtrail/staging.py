"""The CloudTrail parser: each object's ``{"Records": [...]}`` to one flat row an event.

The framework (:mod:`jobkit.raw_staging`) lists the objects, reads each whole and handles the
ones it cannot read; this module parses the JSON, with Spark SQL expressions only (no Python
UDFs). Every object is parsed alike, so :meth:`CloudTrailParser.classify` rejects none: its first
line may be cut at the head's size, and only parsing the whole object says whether it is JSON.

An object is parsed once, with ``Records`` as an array of strings: Spark then keeps each record
as its JSON text, which is what a quarantined record shows. Each record is parsed again with the
fields the staging table keeps, all read as strings: a nested object (``requestParameters``)
arrives as its JSON text and a JSON boolean (``readOnly``) as ``true``/``false``, as does the
string form, which is therefore accepted too.

Whole objects are rejected with line_number 0 (``invalid_json``: not a JSON object, or cut
short; ``missing_records``: no ``Records`` array): they hold no record, and the framework counts
them as objects quarantined, with their size. A record fails for the first of: not_an_object,
missing_event_time, invalid_event_time, missing_required_fields (no eventSource or eventName,
which name the API call), date_out_of_range (dated on a day Athena does not project).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from functools import reduce

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from jobkit.partitions import OUT_OF_RANGE, PARTITION_FLOOR, visible_range_sql
from jobkit.raw_staging import FIRST_LINE_CHARS, ObjectProblem, ParsedRecords, first_failure

RECORDS = "records"
# Every object is parsed alike: one group.
JSON_OBJECTS = "cloudtrail-json"

INVALID_JSON = "invalid_json"
MISSING_RECORDS = "missing_records"
NOT_AN_OBJECT = "not_an_object"
MISSING_EVENT_TIME = "missing_event_time"
INVALID_EVENT_TIME = "invalid_event_time"
MISSING_REQUIRED_FIELDS = "missing_required_fields"
OBJECT_REASONS = (INVALID_JSON, MISSING_RECORDS)
RECORD_REASONS = (
    NOT_AN_OBJECT,
    MISSING_EVENT_TIME,
    INVALID_EVENT_TIME,
    MISSING_REQUIRED_FIELDS,
    OUT_OF_RANGE,
)

# The fields of a record the staging table keeps; strings all (see the module's docstring).
RECORD_SCHEMA = (
    "eventTime STRING, eventSource STRING, eventName STRING, awsRegion STRING, "
    "sourceIPAddress STRING, userAgent STRING, "
    "userIdentity STRUCT<type: STRING, arn: STRING, accountId: STRING, principalId: STRING>, "
    "errorCode STRING, errorMessage STRING, requestParameters STRING, requestID STRING, "
    "eventID STRING, readOnly STRING, recipientAccountId STRING"
)
# ISO 8601 to the second with a zone, as CloudTrail writes it (2024-05-06T10:00:00Z); fractions
# and offsets are accepted. A bare cast would also take '2024' or '2024-05-06' for a time.
EVENT_TIME_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?"
    "(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def read_units(texts: DataFrame) -> DataFrame:
    """One row a record of each object (``line_number`` its 1-based position in ``Records``,
    ``record`` its JSON text), or one row for an object rejected whole (``line_number`` 0,
    ``object_reason``, ``object_head``: the start of its text). An empty ``Records`` gives none.

    The object's text is dropped before the records are exploded, so it is not copied into
    every record's row.
    """
    objects = texts.selectExpr(
        "source_file", "text", "from_json(text, 'Records ARRAY<STRING>').Records AS records"
    ).selectExpr(
        "source_file",
        "records",
        # json_object_keys is null for text that is not one JSON object (or is cut short).
        f"CASE WHEN records IS NULL THEN CASE WHEN json_object_keys(text) IS NULL "
        f"THEN '{INVALID_JSON}' ELSE '{MISSING_RECORDS}' END END AS object_reason",
        f"CASE WHEN records IS NULL THEN substring(text, 1, {FIRST_LINE_CHARS}) END AS object_head",
    )
    return (
        objects.selectExpr(
            "source_file",
            "object_reason",
            "object_head",
            "posexplode_outer(records) AS (position, record)",
        )
        .where("object_reason IS NOT NULL OR position IS NOT NULL")
        .selectExpr(
            "source_file",
            "CAST(coalesce(position + 1, 0) AS BIGINT) AS line_number",
            "object_reason",
            "object_head",
            "record",
        )
    )


def parse_units(units: DataFrame) -> DataFrame:
    """Each record's fields (``r``) and its time (``event_time``, null unless well formed)."""
    return units.selectExpr("*", f"from_json(record, '{RECORD_SCHEMA}') AS r").selectExpr(
        "*",
        f"CASE WHEN r.eventTime RLIKE '{EVENT_TIME_PATTERN}' "
        "THEN try_cast(r.eventTime AS TIMESTAMP) END AS event_time",
    )


def _checks(run_date: dt.date) -> list[tuple[str, str, str]]:
    """(condition, reason code, detail) of every check, in the order they apply."""
    day = "to_date(event_time)"
    return [
        ("object_reason IS NOT NULL", "object_reason", _object_detail()),
        (
            "record IS NULL OR NOT startswith(record, '{')",
            f"'{NOT_AN_OBJECT}'",
            "format_string('record %d is not a JSON object', line_number)",
        ),
        ("r.eventTime IS NULL", f"'{MISSING_EVENT_TIME}'", "'the record has no eventTime'"),
        (
            "event_time IS NULL",
            f"'{INVALID_EVENT_TIME}'",
            "format_string('eventTime \\'%s\\' is not an ISO 8601 time', r.eventTime)",
        ),
        (
            "r.eventSource IS NULL OR r.eventName IS NULL",
            f"'{MISSING_REQUIRED_FIELDS}'",
            "concat('the record has no ', concat_ws(' and ', "
            "if(r.eventSource IS NULL, 'eventSource', NULL), "
            "if(r.eventName IS NULL, 'eventName', NULL)))",
        ),
        (
            f"NOT {visible_range_sql(day, run_date)}",
            f"'{OUT_OF_RANGE}'",
            # format_string would print a date as its day number: cast to text first.
            f"format_string('event dated %s, outside the days Athena projects (%s to %s)', "
            f"CAST({day} AS STRING), '{PARTITION_FLOOR.isoformat()}', '{run_date.isoformat()}')",
        ),
    ]


def _object_detail() -> str:
    return (
        f"CASE object_reason WHEN '{INVALID_JSON}' "
        "THEN 'not a JSON object: not JSON, or cut short' "
        "ELSE 'a JSON object without a Records array' END"
    )


def check_records(parsed: DataFrame, run_date: dt.date) -> ParsedRecords:
    """Staged rows and quarantined records or objects of rows as :func:`parse_units` returns.

    The parsed rows are observed (counting the records read: an object rejected whole holds
    none) before any check: besides the count, this keeps Spark from pushing the checks below
    the record's parse, which every reference to a field would then repeat.
    """
    observation = Observation(RECORDS)
    records = F.count(F.when(F.col("line_number") > 0, 1)).alias(RECORDS)
    observed = parsed.observe(observation, records)
    reason, detail = first_failure(_checks(run_date))
    staged = observed.where(f"({reason}) IS NULL").selectExpr(
        "event_time",
        "r.eventSource AS event_source",
        "r.eventName AS event_name",
        "r.awsRegion AS aws_region",
        "r.sourceIPAddress AS source_ip_address",
        "r.userAgent AS user_agent",
        "r.userIdentity.type AS user_identity_type",
        "r.userIdentity.arn AS user_identity_arn",
        "r.userIdentity.accountId AS user_identity_account_id",
        "r.userIdentity.principalId AS user_identity_principal_id",
        "r.errorCode AS error_code",
        "r.errorMessage AS error_message",
        "r.requestParameters AS request_parameters",
        "r.requestID AS request_id",
        "r.eventID AS event_id",
        # Anything but true or false (in any case) is not known, rather than wrong.
        "CASE lower(r.readOnly) WHEN 'true' THEN true WHEN 'false' THEN false END AS read_only",
        "r.recipientAccountId AS recipient_account_id",
        "source_file",
        "line_number",
        "to_date(event_time) AS dt",
    )
    quarantined = observed.where(f"({reason}) IS NOT NULL").selectExpr(
        "source_file",
        "line_number",
        "coalesce(object_head, record, 'null') AS raw_line",
        f"{reason} AS reason",
        f"{detail} AS detail",
    )
    return ParsedRecords(staged=staged, quarantined=quarantined, records_read=observation)


class CloudTrailParser:
    """The CloudTrail format for :mod:`jobkit.raw_staging`: every object in one group."""

    def classify(self, first_line: str) -> Hashable | ObjectProblem:
        return JSON_OBJECTS

    def parse(self, texts: dict[Hashable, DataFrame], run_date: dt.date) -> ParsedRecords:
        return check_records(
            parse_units(read_units(reduce(DataFrame.union, texts.values()))), run_date
        )


PARSER = CloudTrailParser()
