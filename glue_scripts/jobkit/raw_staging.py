"""Raw objects to a staged table and a quarantine table, whatever the data set's format.

The framework does what every raw source needs; the data set's parser (a :class:`RawParser`)
only turns text into rows. Per run:

1. the pending objects are listed (:mod:`jobkit.raw_source`); empty objects are done at once;
2. the first bytes of each object are read on the driver: an object that is not gzip though
   named so, or not text, is quarantined whole as ``unreadable_object``; the parser classifies
   the rest by their first line (e.g. by header), or rejects one whole (e.g. ``missing_header``);
3. Spark reads each object whole, skipping any it cannot read to the end (a truncated gzip):
   those are quarantined whole as ``unreadable_object`` too, and the rest of the batch goes on;
4. the parser's rows are written with their lineage; records read must equal rows staged plus
   records quarantined, checked here, or the run fails naming both numbers before anything is
   committed.

Whole objects are one quarantine row each: line_number 0, their size, and their first line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobkit.context import JobContext
from jobkit.raw_source import RawObject, delivery_date
from jobkit.storage import UnreadableObject, first_line, heads
from jobkit.tables import local_rows, observed

UNREADABLE = "unreadable_object"
FILES_SEEN = "files_seen"
FIRST_LINE_CHARS = 1000
# Quarantined whole objects: the quarantine columns without the lineage the writer adds.
OBJECT_ROW_SCHEMA = (
    "source_file STRING, line_number BIGINT, raw_line STRING, reason STRING, detail STRING, "
    "object_bytes BIGINT, dt DATE"
)
# The delivery date of a raw object from its folders (flow logs may add an hour folder).
PATH_DATE_SQL = (
    "to_date(regexp_extract(source_file, '/([0-9]{4}/[0-9]{2}/[0-9]{2})/([0-9]{2}/)?[^/]+$', 1), "
    "'yyyy/MM/dd')"
)


@dataclass(frozen=True)
class ObjectProblem:
    """Why a whole object cannot be parsed: a stable reason code and a detail for a person."""

    reason: str
    detail: str


@dataclass(frozen=True)
class ParsedRecords:
    """A parser's output over all of a batch's texts.

    ``staged``: the staged table's columns except ``ingested_at`` and ``ingest_batch_id``
    (the framework adds them), valid records only, each dated (``dt``) inside the visible days.
    ``quarantined``: ``source_file``, ``line_number``, ``raw_line``, ``reason``, ``detail``
    for each record that failed a check (``date_out_of_range`` included), or ``line_number`` 0
    for an object it rejects whole once read (e.g. not JSON). ``records_read``: an observation
    holding the count of records read (``records``; whole objects rejected are not records),
    set once either output has been computed.
    """

    staged: DataFrame
    quarantined: DataFrame
    records_read: Observation


class RawParser(Protocol):
    """What a data set supplies to stage its raw format."""

    def classify(self, first_line: str) -> Hashable | ObjectProblem:
        """A group key for objects parsed alike (e.g. their header), or why the object cannot
        be parsed at all."""
        ...

    def parse(self, texts: dict[Hashable, DataFrame], run_date: dt.date) -> ParsedRecords:
        """Rows from ``texts`` (per group key: one row per object, ``source_file`` and
        ``text``); records dated outside the visible days (see
        :func:`jobkit.partitions.visible_range_sql`) go to quarantine as ``date_out_of_range``."""
        ...


def first_failure(checks: Sequence[tuple[str, str, str]]) -> tuple[str, str]:
    """Spark SQL for the first failing check's reason and detail (both null when none fails),
    from ``(condition, reason, detail)`` expressions in the order the checks apply."""
    reason = " ".join(f"WHEN {condition} THEN {code}" for condition, code, _ in checks)
    detail = " ".join(f"WHEN {condition} THEN {text}" for condition, _, text in checks)
    return f"CASE {reason} END", f"CASE {detail} END"


class CountMismatch(RuntimeError):
    """Records read differ from records staged plus quarantined: something was lost."""


@dataclass(frozen=True)
class Triage:
    """The pending objects sorted before Spark reads any: empty, rejected whole, or grouped."""

    empty: list[RawObject]
    rejected: list[tuple[RawObject, ObjectProblem, str]]
    groups: dict[Hashable, list[RawObject]]


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the chunk is still text.
        return exc.start >= len(head) - 3
    return True


def triage(objects: list[RawObject], storage: object, parser: RawParser) -> Triage:
    """Sort ``objects`` by what their first bytes say."""
    empty, rejected = [], []
    groups: dict[Hashable, list[RawObject]] = {}
    read = heads(storage, [item.uri for item in objects if item.size > 0])  # type: ignore[arg-type]
    for item in objects:
        head = read.get(item.uri, b"")
        if isinstance(head, UnreadableObject):
            rejected.append((item, ObjectProblem(UNREADABLE, str(head)), ""))
        elif not _is_text(head):
            problem = ObjectProblem(UNREADABLE, "not text (binary content)")
            rejected.append((item, problem, ""))
        elif not head.strip():
            empty.append(item)
        else:
            line = first_line(head)
            key = parser.classify(line)
            if isinstance(key, ObjectProblem):
                rejected.append((item, key, line[:FIRST_LINE_CHARS]))
            else:
                groups.setdefault(key, []).append(item)
    return Triage(empty, rejected, groups)


def read_texts(
    spark: SparkSession, objects: list[RawObject], group: int
) -> tuple[DataFrame, Observation]:
    """One row per object (``source_file``, ``text``); objects that cannot be read to the end
    are skipped, and the observation's ``files_seen`` names those that were read. ``group``
    numbers the groups of one run (each observation in a plan needs a name of its own)."""
    seen = Observation(f"{FILES_SEEN}-{group}")
    frame = (
        spark.read.option("ignoreCorruptFiles", "true")
        .text([item.uri for item in objects], wholetext=True)
        .selectExpr("input_file_name() AS source_file", "value AS text")
        .observe(seen, F.concat_ws("\n", F.collect_set("source_file")).alias(FILES_SEEN))
    )
    return frame, seen


def plain_uri(uri: str) -> str:
    """A URI as Spark's ``input_file_name`` and a listing may spell it, compared alike."""
    return uri.removeprefix("file://").removeprefix("file:")


def plain_source_file() -> Column:
    """A row's ``source_file`` spelled as :func:`plain_uri` spells it."""
    return F.regexp_replace("source_file", "^file:(//)?", "")


def unread(objects: list[RawObject], observations: list[Observation]) -> list[RawObject]:
    """The objects no observation saw read."""
    seen = {
        plain_uri(name)
        for observation in observations
        for name in observed(observation, FILES_SEEN).split("\n")
    }
    return [item for item in objects if plain_uri(item.uri) not in seen]


def object_rows(
    spark: SparkSession, rejected: list[tuple[RawObject, ObjectProblem, str]], run_date: dt.date
) -> DataFrame:
    """Quarantine rows of whole objects, dated by their delivery folders."""
    rows = [
        (
            item.uri,
            0,
            line,
            problem.reason,
            f"{problem.detail} ({item.size:,} bytes)",
            item.size,
            delivery_date(item.uri) or run_date,
        )
        for item, problem, line in rejected
    ]
    return local_rows(spark, rows, OBJECT_ROW_SCHEMA)


def with_lineage(frame: DataFrame, context: JobContext) -> DataFrame:
    """``ingested_at`` and ``ingest_batch_id`` of this run on every row."""
    return frame.withColumns(
        {
            "ingested_at": F.lit(context.started_at).cast("timestamp"),
            "ingest_batch_id": F.lit(context.batch_id),
        }
    )


def quarantine_shape(
    spark: SparkSession, frame: DataFrame, objects: list[RawObject], context: JobContext
) -> DataFrame:
    """Parser quarantine rows as the quarantine table has them: lineage, the date, and for a
    whole object the parser rejected once read (line_number 0) its size."""
    known = [(plain_uri(item.uri), item.size) for item in objects]
    sizes = local_rows(spark, known, "object_uri STRING, size BIGINT")
    plain = plain_source_file()
    return with_lineage(
        frame.join(F.broadcast(sizes), plain == F.col("object_uri"), "left").selectExpr(
            "source_file",
            "CAST(line_number AS BIGINT) AS line_number",
            "raw_line",
            "reason",
            "detail",
            "CASE WHEN line_number = 0 THEN size END AS object_bytes",
            f"coalesce({PATH_DATE_SQL}, DATE'{context.run_date.isoformat()}') AS dt",
        ),
        context,
    )


def check_counts(job: str, records_read: int, staged: int, quarantined: int) -> None:
    if records_read != staged + quarantined:
        raise CountMismatch(
            f"{job}: {records_read} records read but {staged} staged + {quarantined} "
            f"quarantined; nothing was committed"
        )
