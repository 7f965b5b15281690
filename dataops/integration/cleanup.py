"""Removes what one run left behind: raw objects, query results, its test ``dt`` partitions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botocore.client import BaseClient

from dataops.contracts import Contract
from dataops.integration.report import CheckFailed
from dataops.integration.resources import Resources
from dataops.integration.seeding import TEST_PARTITIONS_BEFORE, TEST_PREFIX_ROOT, IntegrationRun

DELETE_BATCH = 1000
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Location:
    bucket: str
    prefix: str


def table_location(table: str, resources: Resources) -> Location:
    """Where the data workflow writes ``table`` (the quarantine has a bucket of its own)."""
    from vpcflow_jobs.context import QUARANTINE_TABLE

    bucket = resources.quarantine_bucket if table == QUARANTINE_TABLE else resources.curated_bucket
    return Location(bucket, f"{table}/")


def run_locations(
    run: IntegrationRun, resources: Resources, contracts: dict[str, Contract]
) -> list[Location]:
    """The run's raw and query-result prefixes and every table's test partitions, all test-only."""
    if not _RUN_ID.fullmatch(run.run_id) or not run.prefix.startswith(TEST_PREFIX_ROOT):
        raise ValueError(f"refusing to delete {run.prefix}: not one run's test prefix")
    late = [day for day in run.dates if day >= TEST_PARTITIONS_BEFORE]
    if late:
        raise ValueError(f"refusing to delete dt={late[0]}: real data may live there")
    locations = [
        Location(resources.raw_bucket, run.prefix),
        Location(resources.athena_results_bucket, run.prefix),
    ]
    for table in sorted(contracts):
        table_root = table_location(table, resources)
        for key in contracts[table].partition_keys[:1]:
            locations.extend(
                Location(table_root.bucket, f"{table_root.prefix}{key}={day.isoformat()}/")
                for day in run.dates
            )
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


def clean_up(
    s3: BaseClient, run: IntegrationRun, resources: Resources, contracts: dict[str, Contract]
) -> int:
    """Delete the run's raw objects and test partitions; return how many objects went."""
    return sum(delete_prefix(s3, location) for location in run_locations(run, resources, contracts))
