"""``run-local``: the whole data workflow on a laptop, with exactly the job code Glue runs.

Jobs run in the order of the declared job graph (the one the Step Functions workflow is built
from). Afterwards every table is checked against its contract, the staging counts must add up
(data lines read = staged + quarantined) and the SQL data tests run on DuckDB.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.contract_check import check_table
from dataops.data_tests import (
    DEFAULT_DATA_TESTS_DIR,
    DataTestResult,
    load_data_tests,
    run_on_duckdb,
)
from dataops.project import PROJECT_ROOT, Project, load_project

STATE_DIR = "_state"
QUARANTINE_DIR = "quarantine"


@dataclass(frozen=True)
class StepReport:
    job: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    seconds: float


@dataclass
class RunReport:
    steps: list[StepReport] = field(default_factory=list)
    contract_problems: list[str] = field(default_factory=list)
    count_problems: list[str] = field(default_factory=list)
    data_tests: list[DataTestResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.contract_problems or self.count_problems) and all(
            result.passed for result in self.data_tests
        )


def job_context(raw: Path, warehouse: Path, batch_id: str) -> Any:
    from vpcflow_jobs.context import JobContext

    return JobContext(
        raw_uri=str(raw.resolve()),
        warehouse_uri=str(warehouse.resolve()),
        quarantine_uri=str((warehouse / QUARANTINE_DIR).resolve()),
        state_uri=str((warehouse / STATE_DIR).resolve()),
        batch_id=batch_id,
    )


def log_text_bytes(files: list[str]) -> int:
    """The log text in local raw files: a plain file's size, a gzip file's uncompressed size
    as its trailer records it (that of its last member; a file written in one go has one)."""
    total = 0
    for name in files:
        path = Path(name)
        if path.suffix != ".gz":
            total += path.stat().st_size
            continue
        with path.open("rb") as handle:
            handle.seek(-4, os.SEEK_END)
            total += int.from_bytes(handle.read(4), "little")
    return total


def _print(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, flush=True)


def run_workflow(
    spark: Any,
    project: Project,
    raw: Path,
    warehouse: Path,
    batch_id: str,
    *,
    quiet: bool = False,
) -> RunReport:
    """Run every job of the graph, then the contract checks and the data tests."""
    context = job_context(raw, warehouse, batch_id)
    report = RunReport()
    jobs = project.job_graph.jobs
    for index, job in enumerate(jobs, start=1):
        _print(f"[{index}/{len(jobs)}] {job.name}: {job.description}", quiet)
        started = time.perf_counter()
        result = importlib.import_module(job.module).run(spark, context)
        step = StepReport(
            job.name,
            result.rows_in,
            result.rows_out,
            result.rows_quarantined,
            time.perf_counter() - started,
        )
        report.steps.append(step)
        _print(
            f"      {step.rows_in:,} in, {step.rows_out:,} out, "
            f"{step.rows_quarantined:,} quarantined ({step.seconds:.1f} s)",
            quiet,
        )
        if job.reads == ["raw"] and step.rows_in != step.rows_out + step.rows_quarantined:
            report.count_problems.append(
                f"{job.name}: {step.rows_in} data lines read but {step.rows_out} staged + "
                f"{step.rows_quarantined} quarantined"
            )
    locations = {table: Path(context.table_uri(table)) for table in project.job_graph.tables}
    written = {table: loc for table, loc in locations.items() if any(loc.rglob("*.parquet"))}
    tests = load_data_tests(project.root / DEFAULT_DATA_TESTS_DIR)
    # The checks only read the tables: the Spark ones (small jobs, mostly planning and
    # scheduling) and the DuckDB data tests run side by side.
    with ThreadPoolExecutor(max_workers=len(written) + 1) as pool:
        data_tests = pool.submit(run_on_duckdb, tests, locations)
        contract_checks = [
            pool.submit(check_table, spark, project.contracts[table], str(location))
            for table, location in written.items()
        ]
        for problems in contract_checks:
            report.contract_problems.extend(problems.result())
        report.data_tests = data_tests.result()
    return report


def summary(report: RunReport) -> str:
    """The table printed at the end of a run."""
    lines = [
        f"{'step':<14}{'rows in':>12}{'rows out':>12}{'quarantined':>13}{'seconds':>9}",
        *(
            f"{s.job:<14}{s.rows_in:>12,}{s.rows_out:>12,}{s.rows_quarantined:>13,}{s.seconds:>9.1f}"
            for s in report.steps
        ),
        "",
        f"contract checks: {'passed' if not report.contract_problems else 'FAILED'}",
        *(f"  {problem}" for problem in report.contract_problems + report.count_problems),
    ]
    passed = sum(result.passed for result in report.data_tests)
    lines.append(f"data tests: {passed} passed, {len(report.data_tests) - passed} failed")
    for result in report.data_tests:
        verdict = "ok" if result.passed else "FAILED"
        detail = result.error or (
            f"{result.offending_rows} offending row(s)" if not result.passed else ""
        )
        lines.append(f"  {verdict:<7}{result.test.name} {detail}".rstrip())
        lines.extend(f"           {row}" for row in ([] if result.passed else result.sample))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, required=True, help="raw flow-log files (S3 layout)")
    parser.add_argument("--warehouse", type=Path, required=True, help="where tables are written")
    parser.add_argument("--batch-id", default=None, help="run id (default: local-<UTC time>)")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    if not args.raw.is_dir():
        print(f"error: --raw {args.raw}: not a directory; fix: pass the folder holding AWSLogs/")
        return 2
    project = load_project(args.root)
    batch_id = args.batch_id or datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S%f")
    from dataops.spark_class_archive import jvm_options
    from vpcflow_jobs.session import build_local_session, jit_options
    from vpcflow_jobs.staging import pending_raw_files

    text_bytes = log_text_bytes(pending_raw_files(job_context(args.raw, args.warehouse, batch_id)))
    jit = jit_options(text_bytes)
    print(
        f"new raw files: {text_bytes / 2**20:,.1f} MiB of log text; driver JIT: "
        f"{'C1 only (a small batch)' if jit else 'C1 and C2'}",
        flush=True,
    )
    spark = build_local_session(jvm_options=f"{jvm_options()} {jit}".strip())
    try:
        report = run_workflow(spark, project, args.raw, args.warehouse, batch_id)
    finally:
        spark.stop()
    print(summary(report))
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED
