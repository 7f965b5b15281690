"""Test-only raw data of a data set: made by its own sample-data generator with a fixed seed,
uploaded under the run's own prefix.

Every date lies in 2001, years before any real delivery, so the ``dt`` partitions the data
workflow writes for them can never be those of real data and can be deleted afterwards (the
environment's integration-test role may delete no other partition of a table).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.datasets import DataSet
from dataops.samples import Generator, SampleData
from jobkit.raw_source import delivery_date

if TYPE_CHECKING:
    from botocore.client import BaseClient

TEST_PREFIX_ROOT = "integration-tests/"
# A day into the test year: a generator may date late records before its first day.
TEST_START = dt.date(2001, 1, 2)
# Partitions of this year are the test's; real data never reaches back that far.
TEST_YEAR = TEST_START.year
TEST_DAYS = (dt.date(TEST_YEAR, 1, 1), dt.date(TEST_YEAR, 12, 31))
SEED = 6
RECORDS = 600
DAYS = 2


@dataclass(frozen=True)
class IntegrationRun:
    """One integration run: its id names its prefix, its executions and its batches."""

    run_id: str

    @property
    def prefix(self) -> str:
        """Everything of this run in the raw and the query-results bucket lies under here."""
        return f"{TEST_PREFIX_ROOT}{self.run_id}/"

    @property
    def execution_name(self) -> str:
        """Each data set's execution (and so the batch id of its jobs)."""
        return f"integration-{self.run_id}"

    def raw_prefix(self, dataset: DataSet) -> str:
        """What ``dataset``'s state machine is told to read: its raw prefix, under the run's."""
        return f"{self.prefix}{dataset.spec.raw.prefix}"

    def results_prefix(self, dataset: DataSet) -> str:
        """Where the Athena results of ``dataset``'s queries go."""
        return f"{self.prefix}{dataset.name}/"


def generate_test_data(generate: Generator, out_dir: Path) -> SampleData:
    return generate(out_dir, RECORDS, SEED, days=DAYS, start=TEST_START)


def _in_test_year(value: object) -> bool:
    return isinstance(value, dt.date) and value.year == TEST_YEAR


def seeding_problems(dataset: DataSet, data: SampleData, out_dir: Path) -> list[str]:
    """Why the generated data may not be seeded: an object outside the data set's raw prefix,
    a delivery date or a predicted partition outside the test year, a predicted table without
    a contract."""
    problems = []
    for path in data.files:
        key = path.relative_to(out_dir).as_posix()
        delivered = delivery_date(key)
        if not key.startswith(dataset.spec.raw.prefix):
            problems.append(f"{key} lies outside the raw prefix {dataset.spec.raw.prefix}")
        elif not _in_test_year(delivered):
            problems.append(f"{key} is delivered on {delivered}, not in {TEST_YEAR}")
    for table, rows in data.expected_rows().items():
        contract = dataset.contracts.get(table)
        if contract is None:
            problems.append(
                f"{table} is predicted but has no contract in contracts/{dataset.name}/"
            )
            continue
        key = contract.partition_keys[0]
        late = sorted({str(row.get(key)) for row in rows if not _in_test_year(row.get(key))})
        if late:
            problems.append(f"{table} is predicted in {key}={late[0]}, not in {TEST_YEAR}")
    return problems


def seed(s3: BaseClient, bucket: str, key_prefix: str, data: SampleData, out_dir: Path) -> int:
    """Upload the generated objects under ``key_prefix``, keeping their layout; return how many.
    (One PutObject each: test objects are small, and its errors are plain client errors.)"""
    for path in data.files:
        key = f"{key_prefix}{path.relative_to(out_dir).as_posix()}"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return len(data.files)
