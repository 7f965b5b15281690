"""One run of one job: the incremental protocol, in one place for every job of every data set.

A run prepares its output in its work directory and seals it with a manifest (what to commit,
what it consumed), commits the manifest into the tables, then does its bookkeeping: it queues
its batch for the downstream jobs, writes its run record, and marks what it consumed (raw
objects processed, queue entries removed). A rerun of the same batch that finds a manifest
resumes from the commit, so a failure at any point, and any number of retries or redrives,
leave the tables as one successful run would (:mod:`jobkit.commit`).

What a run processes depends on the job's ``incremental`` declaration:

- ``raw_objects``: the raw objects not processed yet (or, for a replay, those delivered on the
  replayed dates, replacing their earlier rows); see :mod:`jobkit.raw_staging`;
- ``append``: the batches queued for it, read file by file and appended as its own batch, or,
  when an input was rewritten (a replay), every partition touched, rewritten whole;
- ``recompute_partitions``: every partition its queued batches touched, rewritten whole.

Models must be partition-local: an output ``dt`` partition depends only on the same ``dt``
partition of each input.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.resources
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobkit import faults, raw_staging, tables
from jobkit.commit import DATA_SUFFIX, Manifest, WorkArea, batch_file_prefix, commit
from jobkit.context import JobContext, JobResult
from jobkit.ledger import Ledger, QueueEntry, TableWrite, WriteMode
from jobkit.raw_source import RawObject, RawState, pending_objects
from jobkit.session import apply_job_settings
from jobkit.storage import Storage, join, storage_for

RAW = "raw_objects"
APPEND = "append"
INPUT_ROWS = "input_rows"
QUARANTINED_LINES = "quarantined_lines"
QUARANTINED_OBJECTS = "quarantined_objects"


@dataclass(frozen=True)
class _Run:
    """What every step of one run shares."""

    spark: SparkSession
    context: JobContext
    storage: Storage
    work: WorkArea
    ledger: Ledger

    def checkpoint(self, point: str) -> None:
        faults.checkpoint(self.context.job, point)


def run_job(spark: SparkSession, context: JobContext) -> JobResult:
    """Run ``context``'s job for its batch (resuming an earlier attempt of the same batch)."""
    apply_job_settings(spark)
    storage = storage_for(context.state_uri)
    run = _Run(spark, context, storage, WorkArea(storage, context.work_uri, context.batch_id),
               Ledger(storage, context))  # fmt: skip
    manifest = run.work.manifest()
    if manifest is None:
        run.checkpoint("before_write")
        run.work.clear()
        manifest = _prepare_raw(run) if context.incremental == RAW else _prepare_model(run)
        if manifest is None:
            return _nothing_to_do(run)
    run.checkpoint("before_commit")
    commit(storage, manifest, halfway=lambda: run.checkpoint("partial_commit"))
    run.checkpoint("before_bookkeeping")
    _bookkeeping(run, manifest)
    run.work.clear()
    return _result(context, manifest)


def _nothing_to_do(run: _Run) -> JobResult:
    context = run.context
    if run.ledger.run_record(context.batch_id, context.job) is None:
        counts = {"rows_in": 0, "rows_out": 0, "rows_quarantined": 0, "objects_quarantined": 0}
        run.ledger.write_run_record(context.batch_id, context.job, counts, {})
    return JobResult(job=context.job, rows_in=0, rows_out=0)


def _bookkeeping(run: _Run, manifest: Manifest) -> None:
    """Queue the batch downstream, record the run, then mark what it consumed (in this order,
    so a failure between steps leaves work to redo, never work lost)."""
    context = run.context
    writes = {name: table.write for name, table in manifest.tables.items()}
    run.ledger.enqueue(context.downstream, context.job, context.batch_id, writes)
    run.ledger.write_run_record(context.batch_id, context.job, manifest.details["counts"], writes)
    if context.incremental == RAW:
        assert context.raw is not None
        objects = [
            RawObject(uri, size, dt.date.fromisoformat(day))
            for uri, size, day in manifest.details["objects"]
        ]
        RawState(run.storage, context).record(objects, context.batch_id, context.raw.lateness_days)
    else:
        run.ledger.dequeue(manifest.details["queue"])


def _result(context: JobContext, manifest: Manifest) -> JobResult:
    counts = manifest.details["counts"]
    return JobResult(
        job=context.job,
        rows_in=counts["rows_in"],
        rows_out=counts["rows_out"],
        rows_quarantined=counts["rows_quarantined"],
        objects_quarantined=counts["objects_quarantined"],
        tables={name: table.dts for name, table in manifest.tables.items()},
    )


def _files(storage: Storage, partition_uri: str, prefix: str = "") -> list[str]:
    return [
        item.uri
        for item in storage.list_objects(
            join(partition_uri, prefix) if prefix else partition_uri + "/"
        )
        if item.uri.endswith(DATA_SUFFIX)
    ]


def _partition_files(storage: Storage, location: str, dts: list[str]) -> list[str]:
    return [uri for day in dts for uri in _files(storage, join(location, f"dt={day}"))]


def _read(run: _Run, table: str, files: list[str]) -> DataFrame:
    """``files`` of ``table`` read with its contract's schema (no files: no rows)."""
    ddl = run.context.schemas[table]
    if not files:
        return tables.local_rows(run.spark, [], ddl)
    location = run.context.location(table)
    return run.spark.read.schema(tables.struct(ddl)).option("basePath", location).parquet(*files)


# Raw objects ------------------------------------------------------------------------------


def _prepare_raw(run: _Run) -> Manifest | None:
    context = run.context
    raw_storage = storage_for(context.raw_uri)
    state = RawState(run.storage, context)
    pending = pending_objects(raw_storage, state, context)
    if not pending.objects:
        return None
    assert context.python is not None
    assert context.quarantine is not None
    parser: raw_staging.RawParser = importlib.import_module(context.python).PARSER
    sorted_objects = raw_staging.triage(pending.objects, raw_storage, parser)
    staged_table, quarantine = context.output, context.quarantine
    rejected = list(sorted_objects.rejected)
    counts = {"rows_in": 0, "rows_out": 0, "rows_quarantined": 0}
    parser_objects = 0
    if sorted_objects.groups:
        texts, seen = {}, []
        for group, (key, objects) in enumerate(sorted_objects.groups.items()):
            texts[key], observation = raw_staging.read_texts(run.spark, objects, group)
            seen.append(observation)
        parsed = parser.parse(texts, context.run_date)
        staged_rows, quarantined_rows = Observation(INPUT_ROWS), Observation(QUARANTINED_LINES)
        staged = tables.conform(
            raw_staging.with_lineage(parsed.staged, context),
            staged_table,
            context.schemas[staged_table],
        ).observe(staged_rows, F.count(F.lit(1)).alias(INPUT_ROWS))
        tables.write(staged, run.work.table_uri(staged_table))
        run.checkpoint("partial_write")
        quarantined = tables.conform(
            raw_staging.quarantine_shape(run.spark, parsed.quarantined, pending.objects, context),
            quarantine,
            context.schemas[quarantine],
        ).observe(
            quarantined_rows,
            F.count(F.when(F.col("line_number") > 0, 1)).alias(QUARANTINED_LINES),
            F.count(F.when(F.col("line_number") == 0, 1)).alias(QUARANTINED_OBJECTS),
        )
        tables.write(quarantined, run.work.table_uri(quarantine))
        for item in raw_staging.unread(
            [o for g in sorted_objects.groups.values() for o in g], seen
        ):
            problem = raw_staging.ObjectProblem(
                raw_staging.UNREADABLE, "could not be read to the end (truncated or corrupt)"
            )
            rejected.append((item, problem, ""))
        counts = {
            "rows_in": int(tables.observed(parsed.records_read, "records")),
            "rows_out": int(tables.observed(staged_rows, INPUT_ROWS)),
            "rows_quarantined": int(tables.observed(quarantined_rows, QUARANTINED_LINES)),
        }
        parser_objects = int(tables.observed(quarantined_rows, QUARANTINED_OBJECTS))
        raw_staging.check_counts(
            context.job, counts["rows_in"], counts["rows_out"], counts["rows_quarantined"]
        )
    if rejected:
        rows = raw_staging.with_lineage(
            raw_staging.object_rows(run.spark, rejected, context.run_date), context
        )
        tables.write(
            tables.conform(rows, quarantine, context.schemas[quarantine]),
            run.work.table_uri(quarantine),
            append=True,
        )
    replaced = _keep_unreplayed(run, pending.objects, pending.earlier_batches)
    mode: WriteMode = "replace" if context.replay is not None else "append"
    details = {
        "counts": {**counts, "objects_quarantined": len(rejected) + parser_objects},
        "objects": [[o.uri, o.size, o.delivered.isoformat()] for o in pending.objects],
    }
    return run.work.seal(
        {table: context.location(table) for table in context.outputs},
        dict.fromkeys(context.outputs, mode),
        replaced,
        details,
    )


def _keep_unreplayed(
    run: _Run, objects: list[RawObject], earlier_batches: frozenset[str]
) -> dict[str, list[str]]:
    """For a replay: add to the work directory every row of the partitions the replayed
    objects touch (now or in their earlier batches) that came from other objects; those
    partitions are then replaced whole. Returns them per table."""
    context = run.context
    if context.replay is None:
        return {}
    earlier: dict[str, set[str]] = {table: set() for table in context.outputs}
    for batch in earlier_batches:
        record = run.ledger.run_record(batch, context.job) or {"tables": {}}
        for table, written in record["tables"].items():
            earlier.setdefault(table, set()).update(written["dts"])
    replayed = tables.local_rows(
        run.spark, [(raw_staging.plain_uri(item.uri),) for item in objects], "replayed STRING"
    )
    replaced = {}
    for table in context.outputs:
        dts = sorted(earlier[table] | set(run.work.written_dts(table)))
        files = _partition_files(run.storage, context.location(table), dts)
        kept = _read(run, table, files).join(
            F.broadcast(replayed),
            raw_staging.plain_source_file() == F.col("replayed"),
            "left_anti",
        )
        tables.write(kept, run.work.table_uri(table), append=True)
        replaced[table] = dts
    return replaced


# Models -----------------------------------------------------------------------------------


def _input_files(
    run: _Run, table: str, entries: list[QueueEntry], dts: list[str] | None
) -> list[str]:
    """The files of ``table`` to read: the queued batches' own files, or whole ``dts``."""
    location = run.context.location(table)
    if dts is not None:
        return _partition_files(run.storage, location, dts)
    return [
        uri
        for entry in entries
        if table in entry.tables
        for day in entry.tables[table].dts
        for uri in _files(
            run.storage, join(location, f"dt={day}"), batch_file_prefix(entry.batch_id)
        )
    ]


def _transform(run: _Run, inputs: dict[str, DataFrame]) -> DataFrame:
    """The job's logic over its inputs: a SQL model over views named as the tables, or a
    Python module's ``transform(spark, inputs)``."""
    context = run.context
    if context.sql is None:
        assert context.python is not None
        return importlib.import_module(context.python).transform(run.spark, inputs)
    for table, frame in inputs.items():
        frame.createOrReplaceTempView(table)
    sql = importlib.resources.files(context.dataset).joinpath(context.sql).read_text("utf-8")
    return run.spark.sql(sql)


def _prepare_model(run: _Run) -> Manifest | None:
    context = run.context
    queued = run.ledger.pending(context.job, list(context.inputs))
    entries = [entry for entry in queued if entry.tables]
    if not entries:
        run.ledger.dequeue([entry.uri for entry in queued])
        return None
    writes: list[TableWrite] = [write for entry in entries for write in entry.tables.values()]
    appending = context.incremental == APPEND and all(w.mode == "append" for w in writes)
    dts = sorted({day for write in writes for day in write.dts})
    inputs = {
        table: _read(run, table, _input_files(run, table, entries, None if appending else dts))
        for table in context.inputs
    }
    output = context.output
    frame = tables.conform(_transform(run, inputs), output, context.schemas[output])
    written = tables.write(frame, run.work.table_uri(output))
    run.checkpoint("partial_write")
    rows_out = tables.rows_written(written)
    counts = {
        # Parquet answers a count from its footers: this reads no data.
        "rows_in": sum(frame.count() for frame in inputs.values()),
        "rows_out": rows_out,
        "rows_quarantined": 0,
        "objects_quarantined": 0,
    }
    mode: WriteMode = "append" if appending else "replace"
    return run.work.seal(
        {output: context.location(output)},
        {output: mode},
        {} if appending else {output: dts},
        {"counts": counts, "queue": [entry.uri for entry in queued]},
    )
