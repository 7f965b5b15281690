"""The integration run of one environment: every check in order, the clean-up always last.

``integration`` seeds test data, runs the data workflow on it and checks the mart;
``integration-with-data-tests`` also runs the SQL data tests on Athena; ``smoke`` (production)
only reads: resources exist, the latest executions did not fail, data tests if asked.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from dataops.config import EnvironmentConfig
from dataops.data_tests import DEFAULT_DATA_TESTS_DIR, DataTestResult, load_data_tests
from dataops.integration.athena import AthenaTarget, QueryError, run_query
from dataops.integration.athena_data_tests import run_data_test
from dataops.integration.cleanup import clean_up
from dataops.integration.clients import Clients
from dataops.integration.mart_check import compare, mart_query, predicted_mart
from dataops.integration.pacing import Pacing
from dataops.integration.report import CheckFailed, CheckResult, Outcome
from dataops.integration.resources import (
    Resources,
    ResourcesMissing,
    lookup_resources,
    missing_resources,
)
from dataops.integration.seeding import (
    IntegrationRun,
    generate_test_data,
    partition_dates,
    seed,
)
from dataops.integration.workflow import (
    WaitLimits,
    recent_executions,
    start_execution,
    wait_for_execution,
)
from dataops.project import Project

SMOKE = "smoke"
WITH_DATA_TESTS = "integration-with-data-tests"
SMOKE_RESULTS_PREFIX = "smoke-checks/"
_CHECK_ERRORS = (CheckFailed, ResourcesMissing, QueryError, ClientError, BotoCoreError)


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


def _data_test_check(result: DataTestResult) -> CheckResult:
    name = f"data test {result.test.name}"
    if result.passed:
        return CheckResult(name, Outcome.PASSED, result.seconds, "0 offending rows")
    detail = result.error or f"{result.offending_rows} offending row(s)"
    lines = tuple(str(row) for row in result.sample)
    return CheckResult(name, Outcome.FAILED, result.seconds, detail, lines)


def _run_data_tests(
    checks: Checks, clients: Clients, project: Project, target: AthenaTarget
) -> None:
    tests = load_data_tests(project.root / DEFAULT_DATA_TESTS_DIR)
    if not tests:
        with checks.check("data tests"):
            raise CheckFailed(f"no data tests in {project.root / DEFAULT_DATA_TESTS_DIR}")
        return
    for test in tests:
        checks.pacing.echo(f"[data test {test.name}]")
        checks.add(_data_test_check(run_data_test(clients.athena, target, test, checks.pacing)))


def _smoke(
    checks: Checks, clients: Clients, project: Project, settings: RunSettings, resources: Resources
) -> None:
    with checks.check("recent executions") as check:
        check.detail = recent_executions(clients.sfn, resources.state_machine_arn)
    if settings.data_tests:
        target = _athena_target(resources, SMOKE_RESULTS_PREFIX, settings.queries)
        _run_data_tests(checks, clients, project, target)


def _integration(
    checks: Checks,
    clients: Clients,
    project: Project,
    settings: RunSettings,
    resources: Resources,
    *,
    run_id: str,
) -> None:
    with tempfile.TemporaryDirectory(prefix="dataops-integration-") as work:
        data = generate_test_data(Path(work))
        run = IntegrationRun(run_id, partition_dates(data))
        expected = data.expected_conn_stats()
        mart = predicted_mart(project.contracts, expected)
        target = _athena_target(resources, run.prefix, settings.queries)
        try:
            with checks.check("seed") as check:
                keys = seed(clients.s3, resources.raw_bucket, run, data)
                check.detail = (
                    f"{len(keys)} files, {data.data_lines} data lines to "
                    f"s3://{resources.raw_bucket}/{run.raw_prefix} "
                    f"(dt {run.dates[0]}..{run.dates[-1]})"
                )
            if checks.last_passed:
                with checks.check("workflow") as check:
                    execution_arn = start_execution(
                        clients.sfn,
                        resources.state_machine_arn,
                        f"integration-{run_id}",
                        run.raw_prefix,
                    )
                    checks.pacing.echo(f"  started {execution_arn}")
                    check.detail = wait_for_execution(
                        clients.sfn, execution_arn, settings.workflow, checks.pacing
                    )
            if not checks.last_passed:
                checks.skip(f"mart {mart.name}", "the workflow did not succeed on the seeded data")
                if settings.data_tests:
                    checks.skip("data tests", "the workflow did not succeed on the seeded data")
                return
            with checks.check(f"mart {mart.name}") as check:
                sql = mart_query(mart, resources.glue_database, run.dates)
                check.detail = compare(
                    mart, expected, run_query(clients.athena, target, sql, checks.pacing)
                )
            if settings.data_tests:
                _run_data_tests(checks, clients, project, target)
        finally:
            with checks.check("cleanup") as check:
                deleted = clean_up(clients.s3, run, resources, project.contracts)
                check.detail = f"{deleted} test object(s) deleted"


def run_checks(
    clients: Clients, project: Project, settings: RunSettings, pacing: Pacing, run_id: str
) -> list[CheckResult]:
    """Every check of ``settings.check`` against the environment; the results in order."""
    checks = Checks(pacing)
    environment = settings.environment.name
    with checks.check("resources") as check:
        resources = lookup_resources(clients, project.config.project, environment)
        problems = missing_resources(clients, resources, project.contracts)
        if problems:
            raise CheckFailed(f"{len(problems)} resource(s) missing", tuple(problems))
        check.detail = f"published resources of '{environment}' exist"
    if not checks.last_passed:
        return checks.results
    if settings.check == SMOKE:
        _smoke(checks, clients, project, settings, resources)
    else:
        _integration(checks, clients, project, settings, resources, run_id=run_id)
    return checks.results
