"""Test-only raw data: generated with a fixed seed, uploaded under a run's own prefix.

The dates lie in 2001, years before any real flow log, so the ``dt`` partitions the data
workflow writes for them can never be those of real data and can be deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.sample_data import EPOCH, SECONDS_PER_DAY, GeneratedDataSet, generate

if TYPE_CHECKING:
    from botocore.client import BaseClient

TEST_PREFIX_ROOT = "integration-tests/"
RAW_ROOT = "AWSLogs/"
TEST_START = dt.date(2001, 1, 1)
# Partitions from this date on may hold real data: the run never writes or deletes them.
TEST_PARTITIONS_BEFORE = dt.date(2002, 1, 1)
SEED = 6
RECORDS = 600
DAYS = 2


@dataclass(frozen=True)
class IntegrationRun:
    """Where one run's raw objects go and which ``dt`` partitions its data lands in."""

    run_id: str
    dates: tuple[dt.date, ...]

    @property
    def prefix(self) -> str:
        """Everything of this run in the raw bucket lies under here."""
        return f"{TEST_PREFIX_ROOT}{self.run_id}/"

    @property
    def raw_prefix(self) -> str:
        """What the state machine is told to read (the S3 layout's ``AWSLogs/`` root)."""
        return f"{self.prefix}{RAW_ROOT}"


def generate_test_data(out_dir: Path) -> GeneratedDataSet:
    return generate(out_dir, RECORDS, SEED, days=DAYS, start=TEST_START)


def partition_dates(data: GeneratedDataSet) -> tuple[dt.date, ...]:
    """Every ``dt`` the data lands in: flows by their start, quarantined lines by their path."""
    by_start = {EPOCH + dt.timedelta(days=r.start // SECONDS_PER_DAY) for r in data.valid_records}
    by_path = set()
    for path in data.files:
        year, month, day = path.relative_to(data.out_dir).parts[4:7]
        by_path.add(dt.date(int(year), int(month), int(day)))
    dates = tuple(sorted(by_start | by_path))
    if dates[-1] >= TEST_PARTITIONS_BEFORE:
        raise ValueError(f"test data reaches {dates[-1]}, a date real data may have")
    return dates


def seed(s3: BaseClient, bucket: str, run: IntegrationRun, data: GeneratedDataSet) -> list[str]:
    """Upload the generated files under ``run.prefix``, keeping their S3 layout; return keys."""
    keys = []
    for path in data.files:
        key = f"{run.prefix}{path.relative_to(data.out_dir).as_posix()}"
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys
