"""What a rehearsed environment holds, read through moto's APIs as a person would read AWS: the
files of each table, rows on Athena, the run records and processed-object records the jobs keep
under ``_state/<data set>/``, a job's uncommitted work, the Glue job runs of an execution, the
data-check failure metric.

Tables are found through the Glue catalog (their ``Location``), state through the curated bucket
the stack publishes and the layout ``jobkit`` documents, so nothing here spells a bucket.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from dataops.contracts import Contract
from dataops.integration.mart_check import mart_query
from dataops.resource_names import PublishedResource, state_prefix
from jobkit.commit import MANIFEST
from jobkit.context import batch_key
from jobkit.partitions import PARTITION_FLOOR

if TYPE_CHECKING:
    from dataops.rehearsal.harness import Rehearsal

# A key (with its ETag) under each table's location: what "the table changed" compares.
TableFiles = dict[str, dict[str, str]]


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _keys(rehearsal: Rehearsal, bucket: str, prefix: str) -> dict[str, str]:
    pages = (
        rehearsal.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=prefix)
    )
    return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


def _json(rehearsal: Rehearsal, bucket: str, key: str) -> Any:
    s3 = rehearsal.client("s3")
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def database(rehearsal: Rehearsal) -> str:
    return rehearsal.published(PublishedResource.GLUE_DATABASE)


def table_files(rehearsal: Rehearsal, tables: list[str]) -> TableFiles:
    """Every file of each table (under its catalog location), with its ETag."""
    glue = rehearsal.client("glue")
    files = {}
    for table in tables:
        described = glue.get_table(DatabaseName=database(rehearsal), Name=table)["Table"]
        bucket, prefix = _split(described["StorageDescriptor"]["Location"])
        files[table] = _keys(rehearsal, bucket, prefix)
    return files


def changed_tables(before: TableFiles, after: TableFiles) -> list[str]:
    return [table for table in after if after[table] != before.get(table, {})]


def row_count(rehearsal: Rehearsal, table: str) -> int:
    """Rows of ``table`` on Athena."""
    ((count,),) = rehearsal.query(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (a contract name)
    return int(count or 0)


def duplicate_keys(rehearsal: Rehearsal, contract: Contract) -> int:
    """Keys of the contract's grain held by more than one row (0 without a grain)."""
    if not contract.grain:
        return 0
    columns = ", ".join(f'"{column}"' for column in contract.grain)
    ((count,),) = rehearsal.query(
        f'SELECT count(*) FROM (SELECT {columns} FROM "{contract.name}" '  # noqa: S608
        f"GROUP BY {columns} HAVING count(*) > 1)"
    )
    return int(count or 0)


def mart_rows(rehearsal: Rehearsal, contract: Contract) -> list[tuple[str | None, ...]]:
    """The mart's rows of every day Athena projects, as Athena returns them."""
    today = dt.datetime.now(dt.UTC).date()
    return rehearsal.query(mart_query(contract, database(rehearsal), PARTITION_FLOOR, today))


def _state(rehearsal: Rehearsal, dataset: str) -> tuple[str, str]:
    return rehearsal.published(PublishedResource.CURATED_BUCKET), state_prefix(dataset)


def run_record(rehearsal: Rehearsal, dataset: str, batch: str, job: str) -> dict[str, Any] | None:
    """The record ``job`` left for batch ``batch`` (an execution's name), if any."""
    bucket, prefix = _state(rehearsal, dataset)
    return _json(rehearsal, bucket, f"{prefix}/runs/{batch_key(batch)}/{job}.json")


def processed_objects(rehearsal: Rehearsal, dataset: str) -> dict[str, str]:
    """Every raw object the data set's raw job recorded as processed (its key below the raw
    root) -> the batch that processed it, over every raw root."""
    bucket, prefix = _state(rehearsal, dataset)
    processed: dict[str, str] = {}
    for key in _keys(rehearsal, bucket, f"{prefix}/raw/"):
        if "/processed/" in key:
            document = _json(rehearsal, bucket, key) or {}
            processed.update({name: entry["batch"] for name, entry in document.items()})
    return processed


def work_manifest(
    rehearsal: Rehearsal, dataset: str, job: str, batch: str
) -> dict[str, Any] | None:
    """The manifest of ``job``'s uncommitted output of ``batch``, if its work directory has one."""
    bucket, prefix = _state(rehearsal, dataset)
    return _json(rehearsal, bucket, f"{prefix}/work/{job}/{batch_key(batch)}/{MANIFEST}")


def committed_moves(rehearsal: Rehearsal, manifest: dict[str, Any]) -> list[str]:
    """Files of ``manifest`` already in their table, or gone from the work directory (its
    paths are the mirror's, where the job ran)."""
    moved = []
    for table in manifest["tables"].values():
        for source, target in table["moves"]:
            source_bucket, source_key = _split(rehearsal.mirror.s3_uri(source))
            target_bucket, target_key = _split(rehearsal.mirror.s3_uri(target))
            if target_key in _keys(rehearsal, target_bucket, target_key) or source_key not in (
                _keys(rehearsal, source_bucket, source_key)
            ):
                moved.append(target)
    return moved


def glue_run_states(rehearsal: Rehearsal, glue_job: str, batch: str) -> Counter[str]:
    """How the Glue job's runs of batch ``batch`` ended (``SUCCEEDED``, ``FAILED``)."""
    pages = rehearsal.client("glue").get_paginator("get_job_runs").paginate(JobName=glue_job)
    return Counter(
        run["JobRunState"]
        for page in pages
        for run in page["JobRuns"]
        if run.get("Arguments", {}).get("--batch_id") == batch
    )


def metric_sum(
    rehearsal: Rehearsal, namespace: str, metric: str, dimensions: dict[str, str]
) -> float:
    """The sum of ``metric`` with ``dimensions`` put in the last day."""
    now = dt.datetime.now(dt.UTC)
    response = rehearsal.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()],
        StartTime=now - dt.timedelta(days=1),
        EndTime=now + dt.timedelta(minutes=5),
        Period=86_400,
        Statistics=["Sum"],
    )
    return sum(point["Sum"] for point in response["Datapoints"])
