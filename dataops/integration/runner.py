"""The post-deploy check of one environment over every data set: each check in order, the
clean-up always last.

``integration`` seeds each data set's test data (its own sample-data generator, dates in 2001),
runs the data set's workflow on it and compares each mart the generator predicts with Athena;
``integration-with-data-tests`` also runs the data set's SQL data tests. ``smoke`` (production,
never seeded) judges the code just deployed, not an execution of the previous version: it starts
one execution of each data set's workflow with the default input (a run without new data still
runs every job and check) and fails unless it SUCCEEDED; data tests if asked. Both first check
that the published resources exist. The data sets' workflows run side by side.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from dataops.config import EnvironmentConfig
from dataops.data_tests import DataTestResult, load_data_tests
from dataops.datasets import DataSet
from dataops.integration.athena import AthenaTarget, QueryError, run_query
from dataops.integration.athena_data_tests import run_data_test
from dataops.integration.cleanup import dataset_locations, delete_all, run_locations
from dataops.integration.clients import Clients
from dataops.integration.mart_check import compare, mart_query
from dataops.integration.pacing import Pacing
from dataops.integration.report import CheckFailed, CheckResult, Outcome
from dataops.integration.resources import (
    Resources,
    ResourcesMissing,
    lookup_resources,
    missing_resources,
)
from dataops.integration.seeding import (
    TEST_DAYS,
    IntegrationRun,
    generate_test_data,
    seed,
    seeding_problems,
)
from dataops.integration.workflow import (
    RUNNING,
    WaitLimits,
    running_executions,
    start_execution,
    wait_for_executions,
)
from dataops.project import Project
from dataops.samples import SampleData, generator_for

SMOKE = "smoke"
WITH_DATA_TESTS = "integration-with-data-tests"
SMOKE_RESULTS_PREFIX = "smoke-checks/"
MAX_PROBLEMS_SHOWN = 5
_AWS_ERRORS = (ClientError, BotoCoreError)
_CHECK_ERRORS = (CheckFailed, ResourcesMissing, QueryError, *_AWS_ERRORS)
T = TypeVar("T")


@dataclass(frozen=True)
class RunSettings:
    environment: EnvironmentConfig
    check: str
    data_tests: bool
    workflow: WaitLimits
    queries: WaitLimits


@dataclass
class _Open:
    """The check in progress; its step sets the detail shown when it passes."""

    detail: str = ""


class Checks:
    """Runs checks one after another and records each one's outcome and duration."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self.results: list[CheckResult] = []

    @contextmanager
    def check(self, name: str) -> Iterator[_Open]:
        """Record the block as check ``name``: an AWS error or :class:`CheckFailed` fails it."""
        self.pacing.echo(f"[{name}]")
        current = _Open()
        started = self.pacing.clock()
        try:
            yield current
        except _CHECK_ERRORS as exc:
            detail = exc.detail if isinstance(exc, CheckFailed) else str(exc)
            lines = exc.lines if isinstance(exc, CheckFailed) else ()
            self.add(
                CheckResult(name, Outcome.FAILED, self.pacing.clock() - started, detail, lines)
            )
        else:
            seconds = self.pacing.clock() - started
            self.add(CheckResult(name, Outcome.PASSED, seconds, current.detail))

    def add(self, result: CheckResult) -> None:
        self.results.append(result)
        self.pacing.echo(f"  {result.outcome.value}: {result.detail}".rstrip())

    def skip(self, name: str, reason: str) -> None:
        self.pacing.echo(f"[{name}]")
        self.add(CheckResult(name, Outcome.SKIPPED, 0.0, reason))

    def guarded(self, name: str, action: Callable[[], T]) -> T | None:
        """``action()``; an AWS error fails check ``name`` instead (and gives None)."""
        try:
            return action()
        except _AWS_ERRORS as exc:
            self.pacing.echo(f"[{name}]")
            self.add(CheckResult(name, Outcome.FAILED, 0.0, str(exc)))
            return None

    @property
    def last_passed(self) -> bool:
        return bool(self.results) and self.results[-1].outcome is Outcome.PASSED


def new_run_id() -> str:
    """Unique and sortable: the UTC time and a random suffix (two runs a second are fine)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _athena_target(resources: Resources, results_prefix: str, limits: WaitLimits) -> AthenaTarget:
    return AthenaTarget(
        database=resources.glue_database,
        workgroup=resources.athena_workgroup,
        output_location=f"s3://{resources.athena_results_bucket}/{results_prefix}",
        timeout_seconds=limits.timeout_seconds,
        poll_seconds=limits.poll_seconds,
    )


def _data_test_check(dataset: DataSet, result: DataTestResult) -> CheckResult:
    name = f"{dataset.name}: data test {result.test.name}"
    if result.passed:
        return CheckResult(name, Outcome.PASSED, result.seconds, "0 offending rows")
    detail = result.error or f"{result.offending_rows} offending row(s)"
    lines = tuple(str(row) for row in result.sample)
    return CheckResult(name, Outcome.FAILED, result.seconds, detail, lines)


@dataclass(frozen=True)
class _Run:
    """What every step of one check of the environment shares."""

    checks: Checks
    clients: Clients
    project: Project
    settings: RunSettings
    resources: Resources

    def target(self, results_prefix: str) -> AthenaTarget:
        return _athena_target(self.resources, results_prefix, self.settings.queries)

    def run_data_tests(self, dataset: DataSet, target: AthenaTarget) -> None:
        tests = load_data_tests(dataset.data_tests_dir)
        if not tests:
            with self.checks.check(f"{dataset.name}: data tests"):
                raise CheckFailed(f"no data tests in {dataset.data_tests_dir}")
            return
        for test in tests:
            self.checks.pacing.echo(f"[{dataset.name}: data test {test.name}]")
            result = run_data_test(self.clients.athena, target, test, self.checks.pacing)
            self.checks.add(_data_test_check(dataset, result))

    def run_workflows(
        self,
        inputs: Mapping[str, Mapping[str, str]],
        name: str,
        limits: WaitLimits,
        *,
        stop_at_deadline: bool,
    ) -> set[str]:
        """Start execution ``name`` of each data set's workflow (data set -> input), wait for all
        of them together and record a check each; return the data sets whose execution
        SUCCEEDED."""
        checks, sfn = self.checks, self.clients.sfn
        started: dict[str, str] = {}
        datasets: dict[str, str] = {}
        for dataset, document in inputs.items():
            label = f"{dataset}: workflow"
            arn = checks.guarded(
                label,
                lambda d=dataset, doc=document: start_execution(
                    sfn, self.resources.state_machine_arn(d), name, doc
                ),
            )
            if arn is not None:
                checks.pacing.echo(f"[{label}] started {arn}")
                started[label], datasets[label] = arn, dataset
        if not started:
            return set()
        ends = checks.guarded(
            "workflows",
            lambda: wait_for_executions(
                sfn, started, limits, checks.pacing, stop_at_deadline=stop_at_deadline
            ),
        )
        for label, end in (ends or {}).items():
            outcome = Outcome.PASSED if end.succeeded else Outcome.FAILED
            lines = () if end.succeeded else (end.arn,)
            checks.add(CheckResult(label, outcome, end.seconds, end.detail, lines))
        return {datasets[label] for label, end in (ends or {}).items() if end.succeeded}


def _wait_for_earlier_executions(run: _Run) -> set[str]:
    """Let each data set's executions started before this check finish, never judging them;
    return the data sets whose own check cannot start (one still running, or an AWS error)."""
    checks, resources = run.checks, run.resources
    earlier: dict[str, tuple[str, str]] = {}
    unavailable = set()
    for dataset in run.project.datasets:
        running = checks.guarded(
            f"{dataset}: workflow",
            lambda d=dataset: running_executions(run.clients.sfn, resources.state_machine_arn(d)),
        )
        if running is None:
            unavailable.add(dataset)
        for execution in running or []:
            label = f"{dataset}: {execution['name']} (started before this check)"
            earlier[label] = (dataset, execution["executionArn"])
    if not earlier:
        return unavailable
    checks.pacing.echo(f"[waiting for {len(earlier)} execution(s) started before this check]")
    limits = run.settings.workflow
    ends = checks.guarded(
        "workflows",
        lambda: wait_for_executions(
            run.clients.sfn,
            {label: arn for label, (_, arn) in earlier.items()},
            limits,
            checks.pacing,
            stop_at_deadline=False,
        ),
    )
    for label, end in (ends or {}).items():
        dataset = earlier[label][0]
        if end.status == RUNNING and dataset not in unavailable:
            unavailable.add(dataset)
            checks.add(
                CheckResult(
                    f"{dataset}: workflow",
                    Outcome.FAILED,
                    end.seconds,
                    f"{label.split(': ', 1)[1]} is still {RUNNING} after "
                    f"{limits.timeout_seconds:.0f} s, so this check started none; fix: rerun "
                    "the check when it ends (or pass a longer --timeout-seconds)",
                    (end.arn,),
                )
            )
    return unavailable


def _smoke(run: _Run, run_id: str) -> None:
    """One execution of each data set's workflow on the code just deployed, default input."""
    began = run.checks.pacing.clock()
    unavailable = _wait_for_earlier_executions(run)
    inputs = {dataset: {} for dataset in run.project.datasets if dataset not in unavailable}
    limits = run.settings.workflow.less(run.checks.pacing.clock() - began)
    run.run_workflows(inputs, f"smoke-{run_id}", limits, stop_at_deadline=False)
    if run.settings.data_tests:
        target = run.target(SMOKE_RESULTS_PREFIX)
        for dataset in run.project.datasets.values():
            run.run_data_tests(dataset, target)


def _seed(run: _Run, test: IntegrationRun, dataset: DataSet, work: Path) -> SampleData | None:
    """Generate and upload the data set's test data; None when it could not be seeded."""
    checks, raw_bucket = run.checks, run.resources.raw_bucket
    generate = generator_for(dataset)
    if generate is None:
        reason = f"{dataset.root / 'dataset.yaml'} names no sample_data generator"
        checks.skip(f"{dataset.name}: seed", reason)
        return None
    data = None
    with checks.check(f"{dataset.name}: seed") as check:
        try:
            data = generate_test_data(generate, work)
        except ValueError as exc:
            raise CheckFailed(f"the sample data generator failed: {exc}") from None
        problems = seeding_problems(dataset, data, work)
        if problems:
            raise CheckFailed(
                f"{len(problems)} problem(s) with the generated test data; nothing seeded",
                tuple(problems[:MAX_PROBLEMS_SHOWN]),
            )
        count = seed(run.clients.s3, raw_bucket, test.prefix, data, work)
        check.detail = (
            f"{count} objects, {data.data_lines} data lines to "
            f"s3://{raw_bucket}/{test.raw_prefix(dataset)}"
        )
    return data if checks.last_passed else None


def _check_outputs(run: _Run, test: IntegrationRun, dataset: DataSet, data: SampleData) -> None:
    """Each mart the generator predicts against Athena, then the data tests (when asked)."""
    target = run.target(test.results_prefix(dataset))
    for table, expected in data.expected_rows().items():
        contract = dataset.contracts[table]
        with run.checks.check(f"{dataset.name}: mart {table}") as check:
            sql = mart_query(contract, run.resources.glue_database, *TEST_DAYS)
            rows = run_query(run.clients.athena, target, sql, run.checks.pacing)
            check.detail = compare(contract, expected, rows)
    if run.settings.data_tests:
        run.run_data_tests(dataset, target)


def _skip_outputs(run: _Run, dataset: DataSet, data: SampleData) -> None:
    reason = "the workflow did not succeed on the seeded data"
    for table in data.expected_rows():
        run.checks.skip(f"{dataset.name}: mart {table}", reason)
    if run.settings.data_tests:
        run.checks.skip(f"{dataset.name}: data tests", reason)


def _clean_up(run: _Run, test: IntegrationRun, datasets: list[DataSet]) -> None:
    s3 = run.clients.s3
    for dataset in datasets:
        with run.checks.check(f"{dataset.name}: cleanup") as check:
            deleted = delete_all(s3, dataset_locations(test, run.resources, dataset))
            check.detail = f"{deleted} object(s) of test partitions and state deleted"
    with run.checks.check("cleanup") as check:
        deleted = delete_all(s3, run_locations(test, run.resources))
        check.detail = f"{deleted} test object(s) and query result(s) deleted"


def _integration(run: _Run, test: IntegrationRun) -> None:
    datasets = list(run.project.datasets.values())
    with tempfile.TemporaryDirectory(prefix="dataops-integration-") as work:
        try:
            seeded = {
                dataset.name: data
                for dataset in datasets
                if (data := _seed(run, test, dataset, Path(work) / dataset.name)) is not None
            }
            inputs = {
                name: {"raw_prefix": test.raw_prefix(run.project.datasets[name])} for name in seeded
            }
            succeeded = run.run_workflows(
                inputs, test.execution_name, run.settings.workflow, stop_at_deadline=True
            )
            for name, data in seeded.items():
                if name in succeeded:
                    _check_outputs(run, test, run.project.datasets[name], data)
                else:
                    _skip_outputs(run, run.project.datasets[name], data)
        finally:
            _clean_up(run, test, [ds for ds in datasets if generator_for(ds) is not None])


def run_checks(
    clients: Clients, project: Project, settings: RunSettings, pacing: Pacing, run_id: str
) -> list[CheckResult]:
    """Every check of ``settings.check`` against the environment; the results in order."""
    checks = Checks(pacing)
    environment = settings.environment.name
    name = project.config.project
    with checks.check("resources") as check:
        resources = lookup_resources(clients, name, environment, project.datasets)
        problems = missing_resources(
            clients, resources, project.datasets.values(), name, environment
        )
        if problems:
            raise CheckFailed(f"{len(problems)} resource(s) missing", tuple(problems))
        check.detail = (
            f"published resources of '{environment}' and of its {len(project.datasets)} data "
            "set(s) exist"
        )
    if not checks.last_passed:
        return checks.results
    run = _Run(checks, clients, project, settings, resources)
    if settings.check == SMOKE:
        _smoke(run, run_id)
    else:
        _integration(run, IntegrationRun(run_id))
    return checks.results
