"""``run-local``: every data set's data workflow on a laptop, with exactly the job code Glue runs.

Each data set's jobs run in the order of its job graph (the one its Step Functions workflow is
built from), through the same framework entry (:func:`jobkit.runner.run_job`) and with the same
contexts (:mod:`dataops.job_contexts`) as in Glue. Afterwards every table is checked against its
contract and each data set's SQL data tests run on DuckDB. Exit 0: all passed; 1: a check failed
or a raw object was quarantined whole (it needs a person's attention); 2: usage error.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.contract_check import check_table
from dataops.data_tests import DataTestResult, load_data_tests, run_on_duckdb
from dataops.datasets import DataSet
from dataops.declarations import DeclarationError
from dataops.job_contexts import Locations, job_context
from dataops.project import PROJECT_ROOT, Project, add_datasets_argument, load_project
from jobkit.context import ContextError, DateRange

STATE_DIR = "_state"


@dataclass(frozen=True)
class StepReport:
    dataset: str
    job: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    objects_quarantined: int
    seconds: float


@dataclass
class RunReport:
    steps: list[StepReport] = field(default_factory=list)
    contract_problems: list[str] = field(default_factory=list)
    data_tests: list[DataTestResult] = field(default_factory=list)

    @property
    def objects_quarantined(self) -> int:
        return sum(step.objects_quarantined for step in self.steps)

    @property
    def checks_passed(self) -> bool:
        return not self.contract_problems and all(result.passed for result in self.data_tests)

    @property
    def passed(self) -> bool:
        """Every check passed and no raw object needs a person's attention."""
        return self.checks_passed and not self.objects_quarantined


def local_locations(raw: Path, warehouse: Path) -> Locations:
    """Tables at ``WAREHOUSE/<table>``, state at ``WAREHOUSE/_state/<data set>``, raw objects
    under ``RAW/<the data set's prefix>`` (as ``file://`` URIs, the way Spark names them)."""
    warehouse = warehouse.resolve()
    return Locations(
        table=lambda table: str(warehouse / table),
        state=lambda dataset: str(warehouse / STATE_DIR / dataset),
        raw=lambda dataset: f"file://{raw.resolve()}/{dataset.spec.raw.prefix}",
    )


def log_text_bytes(files: list[str]) -> int:
    """The log text in local raw files: a plain file's size, a gzip file's uncompressed size
    as its trailer records it (that of its last member; a file written in one go has one)."""
    total = 0
    for name in files:
        path = Path(name.removeprefix("file://"))
        if path.suffix != ".gz":
            total += path.stat().st_size
            continue
        with path.open("rb") as handle:
            handle.seek(-4, os.SEEK_END)
            total += int.from_bytes(handle.read(4), "little")
    return total


def pending_raw_files(project: Project, locations: Locations, batch_id: str) -> list[str]:
    """The raw objects the next run stages, over every data set."""
    from jobkit.raw_source import RawState, pending_objects
    from jobkit.storage import LocalStorage

    files = []
    for dataset in project.datasets.values():
        job = dataset.job_graph.raw_jobs[0]
        context = job_context(dataset, job, locations, batch_id)
        state = RawState(LocalStorage(), context)
        files.extend(item.uri for item in pending_objects(LocalStorage(), state, context).objects)
    return files


def _print(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, flush=True)


def run_dataset(
    spark: Any,
    dataset: DataSet,
    locations: Locations,
    batch_id: str,
    *,
    replay: DateRange | None = None,
    quiet: bool = False,
    jobs: Collection[str] | None = None,
) -> list[StepReport]:
    """Run every job of ``dataset`` (or those named in ``jobs``) once, in job-graph order."""
    from jobkit.runner import run_job

    steps = []
    selected = [job for job in dataset.job_graph.jobs if jobs is None or job.name in jobs]
    for index, job in enumerate(selected, start=1):
        _print(f"[{dataset.name} {index}/{len(selected)}] {job.name}: {job.description}", quiet)
        started = time.perf_counter()
        result = run_job(spark, job_context(dataset, job, locations, batch_id, replay=replay))
        step = StepReport(
            dataset.name,
            job.name,
            result.rows_in,
            result.rows_out,
            result.rows_quarantined,
            result.objects_quarantined,
            time.perf_counter() - started,
        )
        steps.append(step)
        _print(
            f"      {step.rows_in:,} in, {step.rows_out:,} out, {step.rows_quarantined:,} "
            f"quarantined, {step.objects_quarantined:,} objects quarantined ({step.seconds:.1f} s)",
            quiet,
        )
    return steps


def check_tables(
    project: Project, locations: Locations, datasets: list[str] | None = None
) -> RunReport:
    """Every written table of ``datasets`` (all when None) against its contract, and their
    data tests, on DuckDB: a run of some data sets checks those, not the others."""
    report = RunReport()
    checked = project.select(datasets)
    tables = {name: Path(locations.table(name)) for ds in checked for name in ds.contracts}
    for name, path in tables.items():
        if any(path.rglob("*.parquet")):
            report.contract_problems.extend(check_table(project.contracts[name], path))
    tests = [test for ds in checked for test in load_data_tests(ds.data_tests_dir)]
    report.data_tests = run_on_duckdb(tests, tables, project.contracts)
    return report


def run_workflow(
    spark: Any,
    project: Project,
    raw: Path,
    warehouse: Path,
    batch_id: str,
    *,
    datasets: list[str] | None = None,
    replay: DateRange | None = None,
    quiet: bool = False,
) -> RunReport:
    """Run the data sets' jobs, then the contract checks and the data tests."""
    locations = local_locations(raw, warehouse)
    steps = [
        step
        for name, dataset in project.datasets.items()
        if datasets is None or name in datasets
        for step in run_dataset(spark, dataset, locations, batch_id, replay=replay, quiet=quiet)
    ]
    report = check_tables(project, locations, datasets)
    report.steps = steps
    return report


def summary(report: RunReport) -> str:
    """The table printed at the end of a run."""
    lines = [
        f"{'step':<24}{'rows in':>12}{'rows out':>12}{'quarantined':>13}{'objects':>9}"
        f"{'seconds':>9}",
        *(
            f"{f'{s.dataset}.{s.job}':<24}{s.rows_in:>12,}{s.rows_out:>12,}"
            f"{s.rows_quarantined:>13,}{s.objects_quarantined:>9,}{s.seconds:>9.1f}"
            for s in report.steps
        ),
        "",
        f"contract checks: {'passed' if not report.contract_problems else 'FAILED'}",
        *(f"  {problem}" for problem in report.contract_problems),
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
    if report.objects_quarantined:
        lines.append(
            f"attention: {report.objects_quarantined} raw object(s) quarantined whole; see "
            "README.md, Troubleshooting, to replay them"
        )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, required=True, help="raw objects (the S3 layout)")
    parser.add_argument("--warehouse", type=Path, required=True, help="where tables are written")
    parser.add_argument("--batch-id", default=None, help="run id (default: local-<UTC time>)")
    add_datasets_argument(parser)
    parser.add_argument(
        "--replay",
        default=None,
        metavar="FROM..TO",
        help="reprocess the raw objects delivered on these dates (YYYY-MM-DD..YYYY-MM-DD)",
    )
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    if not args.raw.is_dir():
        print(f"error: --raw {args.raw}: not a directory; fix: pass the folder holding AWSLogs/")
        return 2
    project = load_project(args.root)
    project.select(args.dataset)
    try:
        replay = DateRange.parse(args.replay) if args.replay else None
    except ContextError as exc:
        raise DeclarationError([str(exc)]) from None
    batch_id = args.batch_id or datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S%f")
    from dataops.local_driver import local_session
    from jobkit.session import jit_options

    locations = local_locations(args.raw, args.warehouse)
    text_bytes = log_text_bytes(pending_raw_files(project, locations, batch_id))
    jit = jit_options(text_bytes)
    print(
        f"new raw objects: {text_bytes / 2**20:,.1f} MiB of text; driver JIT: "
        f"{'C1 only (a small batch)' if jit else 'C1 and C2'}",
        flush=True,
    )
    spark = local_session(jit=jit)
    try:
        report = run_workflow(
            spark,
            project,
            args.raw,
            args.warehouse,
            batch_id,
            datasets=args.dataset,
            replay=replay,
        )
    finally:
        spark.stop()
    print(summary(report))
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED
