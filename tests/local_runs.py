"""run-local through its command line, in this process, on the shared SparkSession; and one
clean run of the flow-log jobs that several modules start from.

A second JVM, started cold for each run, would take most of a test's time and memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dataops import cli
from dataops.job_contexts import job_context
from dataops.local_runner import local_locations
from tests.raw_objects import clean_lines, flow_line, unix, write_flow_log


@contextlib.contextmanager
def shared_session(spark) -> Iterator[None]:
    """run-local builds the shared session instead of its own, and must not stop it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("jobkit.session.build_local_session", lambda *_, **__: spark)
        patch.setattr(spark, "stop", lambda: None)
        yield


def run_local(spark, raw: Path, warehouse: Path, *extra: str) -> tuple[int, str]:
    """``python -m dataops run-local --raw RAW --warehouse WAREHOUSE ...``: exit code, output."""
    output = io.StringIO()
    with shared_session(spark), contextlib.redirect_stdout(output):
        code = cli.main(["run-local", "--raw", str(raw), "--warehouse", str(warehouse), *extra])
    return code, output.getvalue()


def table(warehouse: Path, name: str, columns: str = "*", tail: str = "") -> list[tuple]:
    """Rows of one Parquet table written locally, sorted (none when it has no file yet)."""
    if not any((warehouse / name).rglob("*.parquet")):
        return []
    files = f"{warehouse / name}/**/*.parquet"
    return duckdb.sql(
        f"SELECT {columns} FROM read_parquet('{files}', hive_partitioning = true, "
        f"union_by_name = true) {tail} ORDER BY ALL"
    ).fetchall()


DAY1, DAY2 = dt.date(2024, 5, 6), dt.date(2024, 5, 7)
FLOW_JOBS = ("staging", "intermediate", "mart")
FIRST_BATCH = "first"
# A line of fixable.log with an action no flow has: quarantined until the object is fixed.
UNKNOWN_ACTION_LINE = flow_line(unix(DAY1, 7200), "10.9.9.9").replace(" ACCEPT ", " ALLOW ")


def fixable_lines(action: str = "ALLOW") -> list[str]:
    """fixable.log's lines: three clean ones and one with ``action``."""
    return [*clean_lines(DAY1, 3), UNKNOWN_ACTION_LINE.replace(" ALLOW ", f" {action} ")]


@dataclass(frozen=True)
class FlowRun:
    """The raw objects, the warehouse before each job of the run, and after the last."""

    raw: Path
    before: dict[str, Path]
    warehouse: Path


def run_flow_jobs(spark, project, root: Path) -> FlowRun:
    """The flow-log jobs run one by one, as batch FIRST_BATCH, on two days of objects (plain
    and gzip, one bad line), the warehouse copied before each job."""
    from jobkit.runner import run_job

    raw, warehouse = root / "raw", root / "warehouse"
    write_flow_log(raw, DAY1, "fixable.log", fixable_lines())
    write_flow_log(raw, DAY1, "other.log.gz", clean_lines(DAY1, 4, offset=10))
    write_flow_log(raw, DAY2, "later.log.gz", clean_lines(DAY2, 5))
    dataset = project.datasets["vpcflow"]
    locations = local_locations(raw, warehouse)
    before = {}
    warehouse.mkdir()
    for job in FLOW_JOBS:
        before[job] = root / f"before-{job}"
        shutil.copytree(warehouse, before[job])
        context = job_context(dataset, dataset.job_graph.job(job), locations, FIRST_BATCH)
        run_job(spark, context)
    return FlowRun(raw, before, warehouse)
