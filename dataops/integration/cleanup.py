"""Removes what an integration run left behind, and nothing else.

Of the run: its raw objects and query results (under its own prefix). Of each data set: every
test-year (2001) partition of each of its tables, and the state its jobs kept for the run's own
raw root: the processed-objects record and watermark, queue entries, uncommitted work. The run
records (``runs/integration-<run id>/``) stay: they describe the run's execution, which Step
Functions keeps too (``python -m dataops status`` shows both).
"""

from __future__ import annotations

import re

from botocore.client import BaseClient

from dataops.datasets import DataSet
from dataops.integration.report import CheckFailed
from dataops.integration.resources import Location, Resources
from dataops.integration.seeding import TEST_PREFIX_ROOT, TEST_YEAR, IntegrationRun
from jobkit.context import batch_key
from jobkit.ledger import root_key

DELETE_BATCH = 1000
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _checked(run: IntegrationRun) -> IntegrationRun:
    if not _RUN_ID.fullmatch(run.run_id) or not run.prefix.startswith(TEST_PREFIX_ROOT):
        raise ValueError(f"refusing to delete {run.prefix}: not one run's test prefix")
    return run


def run_locations(run: IntegrationRun, resources: Resources) -> list[Location]:
    """The run's raw objects and query results."""
    prefix = _checked(run).prefix
    return [
        Location(resources.raw_bucket, prefix),
        Location(resources.athena_results_bucket, prefix),
    ]


def dataset_locations(
    run: IntegrationRun, resources: Resources, dataset: DataSet
) -> list[Location]:
    """Every test-year partition of the data set's tables and its state for the run's raw root
    (the layout of jobkit's state: ``raw/<root key>/``, ``queues/<job>/<root key>/``,
    ``work/<job>/<batch key>/``)."""
    locations = []
    for table in sorted(dataset.contracts):
        table_root = resources.table_location(dataset, table)
        key = dataset.contracts[table].partition_keys[0]
        locations.append(Location(table_root.bucket, f"{table_root.prefix}{key}={TEST_YEAR}-"))
    state = resources.state_location(dataset)
    root = root_key(resources.raw_uri(_checked(run).raw_prefix(dataset)))
    batch = batch_key(run.execution_name)
    locations.append(Location(state.bucket, f"{state.prefix}raw/{root}/"))
    for job in dataset.job_graph.names:
        locations.append(Location(state.bucket, f"{state.prefix}queues/{job}/{root}/"))
        locations.append(Location(state.bucket, f"{state.prefix}work/{job}/{batch}/"))
    return locations


def delete_prefix(s3: BaseClient, location: Location) -> int:
    """Delete every object under ``location``; return how many."""
    deleted = 0
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=location.bucket, Prefix=location.prefix
    )
    for page in pages:
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            response = s3.delete_objects(
                Bucket=location.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise CheckFailed(
                    f"s3://{location.bucket}/{first['Key']}: {first.get('Code')} "
                    f"({len(errors)} object(s) not deleted)"
                )
            deleted += len(batch)
    return deleted


def delete_all(s3: BaseClient, locations: list[Location]) -> int:
    """Delete everything under each of ``locations``; return how many objects went."""
    return sum(delete_prefix(s3, location) for location in locations)
