"""Scenarios: what the rehearsal does to an environment and what must then be true.

A scenario is a function of a fresh :class:`~dataops.rehearsal.harness.Rehearsal` and a
:class:`~dataops.integration.runner.Checks` it records its checks in. It puts generated raw
objects in, arms faults (``rehearsal.faults``), runs executions of a data set's state machine
and asserts two things of each: its path, the history against an
:class:`~dataops.rehearsal.expectations.Expected` (with the Glue job runs and the SNS messages
it caused), and the tables, against what the data set's sample-data generator predicts or
against the tables as they were before. Data sets, jobs and tables come from the declarations,
never spelled here, so the scenarios hold for any data set with a generator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.datasets import DataSet
from dataops.integration.mart_check import compare
from dataops.integration.report import CheckFailed
from dataops.integration.runner import Checks
from dataops.rehearsal import observed
from dataops.rehearsal.execution import ExecutionResult, all_states, integration
from dataops.rehearsal.expectations import (
    ATHENA_QUERY,
    FAILED,
    CheckPath,
    Expected,
    glue_jobs,
    message_problems,
    path_problems,
)
from dataops.rehearsal.faults import CrawlOutcome
from dataops.resource_names import crawler_name, glue_job_name
from dataops.samples import SampleData, generator_for
from jobkit.context import RawLayout
from jobkit.raw_source import delivery_date, list_delivered
from jobkit.raw_staging import UNREADABLE
from jobkit.storage import LocalStorage

if TYPE_CHECKING:
    from dataops.rehearsal.harness import Rehearsal

# Small: the rehearsal proves the plumbing; run-local and the end-to-end test prove the data.
SAMPLE_RECORDS = 300
# Three delivery days, so the incremental scenario has earlier days and a newer one.
SAMPLE_DAYS = 3
SAMPLE_SEED = 7
TASK_FAILED = "States.TaskFailed"
CONTRACT_VIOLATED = "DataContractViolated"
CRAWLER_TIMED_OUT = "CrawlerTimedOut"
# Where a job fails in each fault scenario (see jobkit.faults): after committing part of its
# output or all of it (a retry must finish that commit, never repeat it), and before
# committing anything (a run that never succeeds must leave every table as it was).
PARTIAL_COMMIT = "partial_commit"
BEFORE_BOOKKEEPING = "before_bookkeeping"
BEFORE_COMMIT = "before_commit"
# What the data workflow's failure notice names (stacks/data_workflow/workflow.py).
STEP_CRAWLER = "crawler"
STEP_DATA_CHECKS = "data checks"
# The workflow's count of broken contracts.
DATA_CHECK_METRIC = "DataQualityFailures"
DATASET_DIMENSION = "Dataset"
# The prefix of the copy of a raw object cut short.
CUT_PREFIX = "cut-"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    run: Callable[[Rehearsal, Checks], None]


@dataclass(frozen=True)
class Seeded:
    """A data set's generated raw objects (under ``out_dir``) and what they must become."""

    dataset: DataSet
    data: SampleData
    out_dir: Path

    @property
    def malformed(self) -> int:
        return sum(self.data.malformed_by_reason.values())


# Finding what the scenarios act on -------------------------------------------------------


def _generated(rehearsal: Rehearsal, dataset: DataSet) -> Seeded | None:
    generate = generator_for(dataset)
    if generate is None:
        return None
    out_dir = rehearsal.work_dir / "raw" / dataset.name
    data = generate(out_dir, SAMPLE_RECORDS, SAMPLE_SEED, SAMPLE_DAYS)
    return Seeded(dataset, data, out_dir)


def _every_seedable(rehearsal: Rehearsal, checks: Checks) -> list[Seeded]:
    """Generated data of every data set with a generator; the others are skipped."""
    seeded = []
    for dataset in rehearsal.project.datasets.values():
        generated = _generated(rehearsal, dataset)
        if generated is None:
            checks.skip(dataset.name, f"{dataset.root / 'dataset.yaml'} names no sample_data")
        else:
            seeded.append(generated)
    return seeded


def _one_seedable(rehearsal: Rehearsal, checks: Checks, *, crawled: bool = False) -> Seeded | None:
    """Generated data of the first data set with a generator (and a crawler, if asked): one
    data set proves what the scenario proves; others run the same definition."""
    for dataset in rehearsal.project.datasets.values():
        if crawled and dataset.spec.crawler is None:
            continue
        generated = _generated(rehearsal, dataset)
        if generated is not None:
            return generated
    wanted = "with a sample_data generator" + (" and a crawler" if crawled else "")
    checks.skip("data set", f"no data set {wanted}")
    return None


def _glue_job(rehearsal: Rehearsal, dataset: DataSet, job: str) -> str:
    return glue_job_name(rehearsal.project.config.project, rehearsal.environment, dataset.name, job)


def _job_attempts(rehearsal: Rehearsal) -> int:
    """Runs of a failing job before the execution fails: the environment's retries plus one."""
    return rehearsal.project.config.environment(rehearsal.environment).glue.max_retries + 1


def _put(rehearsal: Rehearsal, checks: Checks, seeded: Seeded, files: Iterable[Path]) -> None:
    with checks.check(f"{seeded.dataset.name}: raw objects") as check:
        keys = rehearsal.put_raw_objects(seeded.out_dir, files)
        check.detail = f"{len(keys)} object(s) in the raw bucket"


# Asserting an execution and the tables ----------------------------------------------------


def _job_run_problems(
    rehearsal: Rehearsal, result: ExecutionResult, expected: Expected
) -> list[str]:
    """How each Glue job's runs of the execution's batch ended, as Glue recorded them: all
    succeeded but the ones the workflow retried, or the failing job's every run."""
    problems = []
    for glue_job in glue_jobs(result.definition):
        ended = observed.glue_run_states(rehearsal, glue_job, result.name)
        runs = sum(ended.values())
        failed = expected.failed_runs(glue_job, runs)
        if +ended != +Counter({"FAILED": failed, "SUCCEEDED": runs - failed}):
            problems.append(
                f"{glue_job}: runs ended {dict(ended)}, expected {failed} of {runs} failed"
            )
    return problems


def _written_tables(rehearsal: Rehearsal, dataset: DataSet, batch: str) -> frozenset[str]:
    """The tables whose partitions the job runs of execution ``batch`` wrote (their run
    records)."""
    tables: set[str] = set()
    for job in dataset.job_graph.jobs:
        record = observed.run_record(rehearsal, dataset.name, batch, job.name) or {}
        tables |= {name for name, entry in record.get("tables", {}).items() if entry.get("dt_sql")}
    return frozenset(tables)


def _listed(seeded: Seeded) -> set[Path]:
    """The generated objects the data set's raw job lists: on its layout, with one of its
    suffixes (a CloudTrail digest beside the logs is neither)."""
    raw = seeded.dataset.spec.raw
    layout = RawLayout(raw.layout, tuple(raw.suffixes), raw.lateness_days)
    root = seeded.out_dir / raw.prefix
    return {Path(found.uri) for found in list_delivered(LocalStorage(), str(root), layout)}


def _execute(
    rehearsal: Rehearsal, checks: Checks, dataset: DataSet, expected: Expected, label: str
) -> ExecutionResult | None:
    """Run one execution of the data set's workflow and check its path, the Glue job runs it
    caused and the messages the topic delivered for it."""
    result = None
    with checks.check(f"{dataset.name}: {label}") as check:
        delivered = len(rehearsal.messages())
        result = rehearsal.run_execution(dataset.name)
        messages = [message.message for message in rehearsal.messages()[delivered:]]
        written = (
            _written_tables(rehearsal, dataset, result.name)
            if expected.checks is CheckPath.AS_WRITTEN
            else frozenset()
        )
        problems = [
            *path_problems(result, expected, written),
            *_job_run_problems(rehearsal, result, expected),
            *message_problems(messages, dataset.name, expected),
        ]
        if problems:
            raise CheckFailed(
                f"{result.status}: {len(problems)} difference(s) from the expected path",
                tuple(problems),
            )
        top_level = [name for name in result.path if name in result.definition["States"]]
        check.detail = f"{result.status} via " + " -> ".join(dict.fromkeys(top_level))
    return result


def _tables_as_one_run(
    rehearsal: Rehearsal, checks: Checks, seeded: Seeded, *, extra_objects: int = 0
) -> None:
    """The tables as one clean run of the generated data leaves them: every record staged or
    quarantined once (plus ``extra_objects`` quarantined whole), no grain key twice, each
    mart as predicted."""
    dataset = seeded.dataset
    raw_job = dataset.job_graph.raw_jobs[0]
    with checks.check(f"{dataset.name}: tables") as check:
        staged = observed.row_count(rehearsal, dataset.staging_contract.name)
        quarantined = observed.row_count(rehearsal, raw_job.quarantine)
        problems = []
        if staged != seeded.data.data_lines - seeded.malformed:
            problems.append(
                f"{dataset.staging_contract.name}: {staged} rows, expected "
                f"{seeded.data.data_lines - seeded.malformed}"
            )
        if quarantined != seeded.malformed + extra_objects:
            problems.append(
                f"{raw_job.quarantine}: {quarantined} rows, expected "
                f"{seeded.malformed + extra_objects}"
            )
        for contract in dataset.contracts.values():
            duplicates = observed.duplicate_keys(rehearsal, contract)
            if duplicates:
                problems.append(f"{contract.name}: {duplicates} grain key(s) held twice")
        if problems:
            raise CheckFailed(f"{len(problems)} difference(s) from one clean run", tuple(problems))
        check.detail = (
            f"{staged} rows staged, {quarantined} quarantined, no grain key twice in "
            f"{len(dataset.contracts)} tables"
        )
    for table, expected in seeded.data.expected_rows().items():
        contract = dataset.contracts[table]
        with checks.check(f"{dataset.name}: mart {table}") as check:
            check.detail = compare(contract, expected, observed.mart_rows(rehearsal, contract))


def _tables_unchanged(
    rehearsal: Rehearsal, checks: Checks, dataset: DataSet, before: observed.TableFiles
) -> None:
    with checks.check(f"{dataset.name}: tables unchanged") as check:
        after = observed.table_files(rehearsal, list(dataset.contracts))
        changed = observed.changed_tables(before, after)
        if changed:
            raise CheckFailed(f"changed: {', '.join(changed)}")
        check.detail = f"{len(after)} tables, {sum(map(len, after.values()))} files as before"


# Scenarios -------------------------------------------------------------------------------


def clean(rehearsal: Rehearsal, checks: Checks) -> None:
    """Every data set's generated data, one execution of each workflow."""
    for seeded in _every_seedable(rehearsal, checks):
        _put(rehearsal, checks, seeded, seeded.data.files)
        if _execute(rehearsal, checks, seeded.dataset, Expected(), "execution"):
            _tables_as_one_run(rehearsal, checks, seeded)


def no_new_data(rehearsal: Rehearsal, checks: Checks) -> None:
    """A run with data, then one with nothing new: every job and check runs and succeeds,
    nothing changes."""
    seeded = _one_seedable(rehearsal, checks)
    if seeded is None:
        return
    dataset = seeded.dataset
    _put(rehearsal, checks, seeded, seeded.data.files)
    if not _execute(rehearsal, checks, dataset, Expected(), "first execution"):
        return
    before = observed.table_files(rehearsal, list(dataset.contracts))
    result = _execute(
        rehearsal, checks, dataset, Expected(checks=CheckPath.SKIPPED), "execution, no new data"
    )
    if result is None:
        return
    _tables_unchanged(rehearsal, checks, dataset, before)
    with checks.check(f"{dataset.name}: run records") as check:
        records = {
            job: observed.run_record(rehearsal, dataset.name, result.name, job)
            for job in dataset.job_graph.names
        }
        busy = [job for job, record in records.items() if not record or record["rows_in"]]
        if busy:
            raise CheckFailed(f"no record, or rows read, of {', '.join(busy)}")
        check.detail = f"{len(records)} jobs recorded 0 rows read"


def retry(rehearsal: Rehearsal, checks: Checks) -> None:
    """The raw job fails halfway through its commit and the last job after committing, each on
    its first run; the workflow retries both and the tables are as after one run."""
    if _job_attempts(rehearsal) < 2:
        checks.skip(
            "retry",
            f"'{rehearsal.environment}' retries no job (glue.max_retries 0): a failed job fails "
            "the execution, as the job-fails scenario shows",
        )
        return
    seeded = _one_seedable(rehearsal, checks)
    if seeded is None:
        return
    dataset = seeded.dataset
    raw_job, last_job = dataset.job_graph.raw_jobs[0].name, dataset.job_graph.names[-1]
    rehearsal.faults.fail_job_at(_glue_job(rehearsal, dataset, raw_job), PARTIAL_COMMIT)
    rehearsal.faults.fail_job_at(_glue_job(rehearsal, dataset, last_job), BEFORE_BOOKKEEPING)
    _put(rehearsal, checks, seeded, seeded.data.files)
    expected = Expected(job_runs={raw_job: 2, last_job: 2})
    if _execute(rehearsal, checks, dataset, expected, "execution, two jobs retried"):
        _tables_as_one_run(rehearsal, checks, seeded)


def job_fails(rehearsal: Rehearsal, checks: Checks) -> None:
    """The last job fails every run before committing: one failure notice names it, the
    execution fails, no table it writes changed, its prepared work stays uncommitted."""
    seeded = _one_seedable(rehearsal, checks)
    if seeded is None:
        return
    dataset = seeded.dataset
    job = dataset.job_graph.job(dataset.job_graph.names[-1])
    attempts = _job_attempts(rehearsal)
    rehearsal.faults.fail_job_at(
        _glue_job(rehearsal, dataset, job.name), BEFORE_COMMIT, range(1, attempts + 1)
    )
    _put(rehearsal, checks, seeded, seeded.data.files)
    before = observed.table_files(rehearsal, job.outputs)
    expected = Expected(
        status=FAILED,
        error=TASK_FAILED,
        job_runs={job.name: attempts},
        failed_job=job.name,
        checks=CheckPath.NOT_REACHED,
        failed_step=f"job {job.name}",
    )
    result = _execute(rehearsal, checks, dataset, expected, f"execution, {job.name} always fails")
    if result is None:
        return
    with checks.check(f"{dataset.name}: {job.name} published nothing") as check:
        after = observed.table_files(rehearsal, job.outputs)
        manifest = observed.work_manifest(rehearsal, dataset.name, job.name, result.name)
        problems = [f"{table} changed" for table in observed.changed_tables(before, after)]
        if manifest is None:
            problems.append("its work directory holds no manifest")
        elif moved := observed.committed_moves(rehearsal, manifest):
            problems.append(f"{len(moved)} file(s) of its work directory committed: {moved[0]}")
        if observed.run_record(rehearsal, dataset.name, result.name, job.name) is not None:
            problems.append("it left a run record")
        if problems:
            raise CheckFailed(f"{len(problems)} sign(s) of a half-published run", tuple(problems))
        check.detail = (
            f"{', '.join(job.outputs)} unchanged; its work directory holds a manifest, nothing "
            "of it committed; no run record"
        )


def crawler_never_finishes(rehearsal: Rehearsal, checks: Checks) -> None:
    """The crawl never ends: the workflow stops polling, names the crawler, runs no job."""
    seeded = _one_seedable(rehearsal, checks, crawled=True)
    if seeded is None:
        return
    dataset = seeded.dataset
    crawler = crawler_name(rehearsal.project.config.project, rehearsal.environment, dataset.name)
    rehearsal.faults.end_crawls(crawler, CrawlOutcome.RUNNING)
    _put(rehearsal, checks, seeded, seeded.data.files)
    before = observed.table_files(rehearsal, list(dataset.contracts))
    expected = Expected(
        status=FAILED,
        error=CRAWLER_TIMED_OUT,
        job_runs=dict.fromkeys(dataset.job_graph.names, 0),
        checks=CheckPath.NOT_REACHED,
        failed_step=STEP_CRAWLER,
    )
    if _execute(rehearsal, checks, dataset, expected, "execution, the crawl never ends"):
        _tables_unchanged(rehearsal, checks, dataset, before)


def _checked_tables(definition: dict) -> list[str]:
    """The tables the data checks query, in the definition's order (from their queries)."""
    tables = []
    for state in all_states(definition).values():
        if integration(state) == ATHENA_QUERY:
            query = state["Parameters"].get("QueryString.$") or state["Parameters"]["QueryString"]
            tables.append(query.split(' FROM "', 1)[1].split('"', 1)[0])
    return tables


def contract_violated(rehearsal: Rehearsal, checks: Checks) -> None:
    """A data check finds a broken rule: the execution fails with DataContractViolated, the
    failure is counted in the alarmed metric and announced."""
    seeded = _one_seedable(rehearsal, checks)
    if seeded is None:
        return
    dataset = seeded.dataset
    machine = rehearsal.state_machine(dataset.name)
    tables = _checked_tables(machine.definition)
    if not tables:
        checks.skip(f"{dataset.name}: contract", "no table of the data set has contract rules")
        return
    marts = [table for table in tables if table in seeded.data.expected_rows()]
    table = (marts or tables)[-1]
    rehearsal.faults.answer_queries(f'FROM "{table}" WHERE', [['IsComplete "dt"', "1"]])
    _put(rehearsal, checks, seeded, seeded.data.files)
    expected = Expected(
        status=FAILED,
        error=CONTRACT_VIOLATED,
        checks=CheckPath.VIOLATED,
        failed_step=STEP_DATA_CHECKS,
    )
    if not _execute(rehearsal, checks, dataset, expected, f"execution, {table} breaks a rule"):
        return
    with checks.check(f"{dataset.name}: metric {DATA_CHECK_METRIC}") as check:
        (namespace,) = {
            state["Parameters"]["Namespace"]
            for state in all_states(machine.definition).values()
            if integration(state) == "aws-sdk:cloudwatch:putMetricData"
        }
        total = observed.metric_sum(
            rehearsal, namespace, DATA_CHECK_METRIC, {DATASET_DIMENSION: dataset.name}
        )
        if total != 1:
            raise CheckFailed(f"{namespace}/{DATA_CHECK_METRIC}: sum {total}, expected 1")
        check.detail = f"{namespace}/{DATA_CHECK_METRIC} {DATASET_DIMENSION}={dataset.name}: 1"


def _cut_short(path: Path) -> Path:
    """A copy of the gzip object ``path`` cut to half its bytes, beside it."""
    cut = path.with_name(f"{CUT_PREFIX}{path.name}")
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return cut


def unreadable_object(rehearsal: Rehearsal, checks: Checks) -> None:
    """One raw object is a gzip cut short: it is quarantined whole, the rest is staged, the
    attention notice is published and the execution succeeds."""
    seeded = _one_seedable(rehearsal, checks)
    if seeded is None:
        return
    dataset = seeded.dataset
    gzipped = [path for path in seeded.data.files if path.suffix == ".gz"]
    if not gzipped:
        checks.skip(f"{dataset.name}: unreadable object", "the generator writes no gzip object")
        return
    cut = _cut_short(gzipped[0])
    _put(rehearsal, checks, seeded, [*seeded.data.files, cut])
    if not _execute(
        rehearsal, checks, dataset, Expected(quarantined_objects=1), "execution, a gzip cut short"
    ):
        return
    quarantine = dataset.job_graph.raw_jobs[0].quarantine
    with checks.check(f"{dataset.name}: {cut.name} quarantined whole") as check:
        rows = rehearsal.query(
            f'SELECT line_number, reason FROM "{quarantine}" '  # noqa: S608 (declared names)
            f"WHERE source_file LIKE '%/{cut.name}'"
        )
        if rows != [("0", UNREADABLE)]:
            raise CheckFailed(f"its quarantine rows are {rows}, expected one ('0', {UNREADABLE})")
        check.detail = f"one row in {quarantine}: line 0, {UNREADABLE}"
    _tables_as_one_run(rehearsal, checks, seeded, extra_objects=1)


def _day(key: str) -> str:
    return key.split("dt=", 1)[1].split("/", 1)[0]


def _partition(files: dict[str, str], day: str) -> dict[str, str]:
    return {key: etag for key, etag in files.items() if _day(key) == day}


def incremental(rehearsal: Rehearsal, checks: Checks) -> None:
    """Two runs with new objects in between: the second processes only those, recomputes the
    mart partitions they touch and leaves the others; the tables hold the union."""
    seeded = _one_seedable(rehearsal, checks)
    if seeded is None:
        return
    dataset = seeded.dataset
    last_day = max(delivery_date(path.as_posix()) for path in seeded.data.files)
    later = [path for path in seeded.data.files if delivery_date(path.as_posix()) == last_day]
    earlier = [path for path in seeded.data.files if path not in later]
    _put(rehearsal, checks, seeded, earlier)
    # Whether a day's objects hold a malformed record (so a quarantine partition) is the
    # generator's draw: each execution's checks follow what it wrote.
    expected = Expected(checks=CheckPath.AS_WRITTEN)
    first = _execute(rehearsal, checks, dataset, expected, "first execution")
    if first is None:
        return
    marts = list(seeded.data.expected_rows())
    before = observed.table_files(rehearsal, marts)
    _put(rehearsal, checks, seeded, later)
    second = _execute(rehearsal, checks, dataset, expected, "execution, new objects")
    if second is None:
        return
    raw_root = seeded.out_dir / dataset.spec.raw.prefix
    with checks.check(f"{dataset.name}: objects processed once") as check:
        processed = observed.processed_objects(rehearsal, dataset.name)
        listed = _listed(seeded)
        listed_by = {
            run.name: [path for path in paths if path in listed]
            for paths, run in ((earlier, first), (later, second))
        }
        wanted = {
            path.relative_to(raw_root).as_posix(): batch
            for batch, paths in listed_by.items()
            for path in paths
        }
        wrong = sorted(
            key for key in wanted.keys() | processed.keys() if processed.get(key) != wanted.get(key)
        )
        if wrong:
            raise CheckFailed(
                f"{len(wrong)} object(s) processed by another run, or not", tuple(wrong[:5])
            )
        check.detail = (
            f"{len(listed_by[first.name])} by the first run, "
            f"{len(listed_by[second.name])} by the second"
        )
    with checks.check(f"{dataset.name}: mart partitions recomputed") as check:
        after = observed.table_files(rehearsal, marts)
        problems, kept = [], []
        for table in marts:
            producer = dataset.job_graph.producer_of(table).name
            record = observed.run_record(rehearsal, dataset.name, second.name, producer) or {}
            touched = set(record.get("tables", {}).get(table, {}).get("dts", []))
            days = {_day(key) for key in before[table].keys() | after[table].keys()}
            for day in sorted(days - touched):
                if _partition(before[table], day) != _partition(after[table], day):
                    problems.append(f"{table}: dt={day} changed, not touched by the new objects")
                kept.append(day)
            if not touched:
                problems.append(f"{table}: the second execution recomputed no partition")
        if problems:
            raise CheckFailed(f"{len(problems)} partition problem(s)", tuple(problems))
        check.detail = (
            f"only partitions the new objects touched rewritten; kept {sorted(set(kept))}"
        )
    _tables_as_one_run(rehearsal, checks, seeded)


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "clean",
            "every data set's generated data, one execution each: the clean path, the tables "
            "as predicted",
            clean,
        ),
        Scenario(
            "no-new-data",
            "a second execution with nothing new: every job and check runs and succeeds, no "
            "table changes",
            no_new_data,
        ),
        Scenario(
            "retry",
            "a job failing halfway through its commit and one after it, each retried: the "
            "tables as after one run",
            retry,
        ),
        Scenario(
            "job-fails",
            "a job failing every attempt: one failure notice naming it, the execution FAILED, "
            "nothing of it published",
            job_fails,
        ),
        Scenario(
            "crawler-never-finishes",
            "a crawl that never ends: CrawlerTimedOut, the crawler named, no job run",
            crawler_never_finishes,
        ),
        Scenario(
            "contract-violated",
            "a data check finding a broken rule: DataContractViolated, the metric counted, the "
            "failure announced",
            contract_violated,
        ),
        Scenario(
            "unreadable-object",
            "a gzip cut short: quarantined whole, the rest staged, the attention notice, the "
            "execution SUCCEEDED",
            unreadable_object,
        ),
        Scenario(
            "incremental",
            "two executions with new objects in between: the second processes only those and "
            "recomputes the partitions they touch; the tables hold the union",
            incremental,
        ),
    )
}
