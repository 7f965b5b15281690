"""The rehearsal's machinery on a miniature stack (tests/rehearsal_stack.py): no CDK, no Spark.

Each of moto's gaps the rehearsal closes is exercised here and fails without its patch:
``glue:startJobRun.sync`` succeeding (clean run), ``athena:startQueryExecution.sync`` (clean
run, failing check), a ``Catch`` on an AWS SDK error name (crawl already running), a Fail
state passing ``States.TaskFailed`` on (script exception), Wait and Retry times scaled down
(clean run, retried run), describing an execution whose data held SDK timestamps (clean run),
crawls that end (clean run, a crawl that never ends), S3 ``GetObject``'s body as text (clean
run: the run record read), escapes in intrinsic functions (clean run: the query's quoted
literals; a refused execution name: its cause), and a ``jobkit``-style fault armed in the
job's own copy of its library (a checkpoint armed in process).
"""

from __future__ import annotations

import json
import sys
import time
import types

import pytest

from dataops.rehearsal.expectations import Expected, path_problems
from dataops.rehearsal.faults import CrawlOutcome
from dataops.rehearsal.harness import Rehearsal, RehearsalOptions
from tests.rehearsal_stack import CRAWLER, DATASET, JOB, LIBRARY_FACTOR, LIMIT, ROWS, mini_stack

NORMAL = {"mode": "normal"}


@pytest.fixture
def rehearsal(project, tmp_path):
    stack = mini_stack(tmp_path / "assembly", project.config.project, "dev")
    with Rehearsal(
        project,
        "dev",
        stack,
        work_dir=tmp_path / "work",
        spark=lambda: None,
        options=RehearsalOptions(execution_timeout_seconds=60),
    ) as rehearsal:
        yield rehearsal


def test_a_clean_run_succeeds_through_the_real_integrations(rehearsal):
    # A module of the job library's name is loaded already: the run must use the asset's.
    loaded = types.ModuleType("minilib")
    loaded.FACTOR = 1000
    sys.modules["minilib"] = loaded
    started = time.monotonic()
    try:
        result = rehearsal.run_execution(DATASET, NORMAL)
        assert sys.modules["minilib"] is loaded
    finally:
        del sys.modules["minilib"]
    assert result.status == "SUCCEEDED", result.summary()
    assert path_problems(result, Expected()) == []
    # The crawl is seen running once, so the poll loop runs: two waits of 30 s, in a moment.
    assert result.entered("WaitForCrawler") == 2
    assert time.monotonic() - started < 20
    assert rehearsal.query("SELECT count(*), max(dt) FROM numbers") == [
        (str(ROWS * LIBRARY_FACTOR), "2024-05-06")
    ]
    assert rehearsal.messages() == []
    # The execution's data held GetCrawler's timestamps; describing it works, they are text.
    described = rehearsal.client("stepfunctions").describe_execution(executionArn=result.arn)
    assert isinstance(json.loads(described["output"])["crawler"]["Crawler"]["CreationTime"], str)


def test_a_run_failing_once_is_retried_and_the_failure_is_in_the_history(rehearsal):
    # Armed by the job's short name, as a scenario knows it from the job graph.
    rehearsal.faults.fail_job_run(
        rehearsal.glue_job("write"), attempt=1, message="RuntimeError: disk full"
    )
    result = rehearsal.run_execution(DATASET, NORMAL)
    assert result.status == "SUCCEEDED", result.summary()
    assert result.entered("RunWriteJob") == 1
    job_starts = [
        event
        for event in result.events_of("TaskScheduled")
        if event["taskScheduledEventDetails"]["resource"] == "startJobRun.sync"
    ]
    assert len(job_starts) == 2
    # The retry waited its 120 s interval scaled down, and is in the history all the same.
    assert (job_starts[1]["timestamp"] - job_starts[0]["timestamp"]).total_seconds() < 10
    (failure,) = result.events_of("TaskFailed")
    assert failure["taskFailedEventDetails"]["error"] == "States.TaskFailed"
    assert json.loads(failure["taskFailedEventDetails"]["cause"])["ErrorMessage"] == (
        "RuntimeError: disk full"
    )


def test_a_script_exception_fails_the_run_with_its_message_and_the_execution_with_the_error(
    rehearsal,
):
    result = rehearsal.run_execution(DATASET, {"mode": "explode"})
    assert result.status == "FAILED"
    # The Fail state passes the caught States.TaskFailed on (moto raised States.Runtime).
    assert result.error == "States.TaskFailed"
    assert json.loads(result.cause)["ErrorMessage"] == "ValueError: boom"
    assert result.path[-2:] == ["Notify", "Failed"]
    (message,) = rehearsal.messages()
    assert message.subject == "mini workflow failed"
    assert json.loads(message.message)["error"]["Error"] == "States.TaskFailed"
    runs = rehearsal.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    assert [run["ErrorMessage"] for run in runs] == ["ValueError: boom"] * 2


def test_a_crawl_that_never_ends_times_the_poll_loop_out(rehearsal):
    rehearsal.faults.end_crawls(CRAWLER, CrawlOutcome.RUNNING)
    result = rehearsal.run_execution(DATASET, NORMAL)
    assert result.error == "CrawlerTimedOut"
    assert result.entered("WaitForCrawler") == 4
    assert result.entered("CountPoll") == 3


def test_a_crawl_already_running_is_caught_by_its_aws_sdk_error_name(rehearsal):
    rehearsal.client("glue").start_crawler(Name=CRAWLER)
    result = rehearsal.run_execution(DATASET, NORMAL)
    assert result.status == "SUCCEEDED", result.summary()
    (failure,) = result.events_of("TaskFailed")
    assert failure["taskFailedEventDetails"]["error"] == "Glue.CrawlerRunningException"


def test_an_athena_check_returning_a_row_fails_the_parallel_and_the_execution(rehearsal):
    rehearsal.faults.answer_queries(f"n >= {LIMIT}", [["100"]])
    result = rehearsal.run_execution(DATASET, NORMAL)
    assert result.error == "DataContractViolated"
    assert "NumbersTooLarge" in result.path
    assert result.path[-2:] == ["Notify", "Failed"]


def start_query(rehearsal, query: str) -> str:
    return rehearsal.client("athena").start_query_execution(
        QueryString=query, QueryExecutionContext={"Database": "mini_dev"}, WorkGroup="mini-dev"
    )["QueryExecutionId"]


def query_status(rehearsal, query: str) -> dict:
    athena = rehearsal.client("athena")
    query_id = start_query(rehearsal, query)
    return athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]


def test_athena_reports_why_a_query_failed(rehearsal):
    status = query_status(rehearsal, "SELECT missing_column FROM numbers")
    assert status["State"] == "FAILED"
    assert "missing_column" in status["StateChangeReason"]


def test_athena_finds_the_tables_a_query_names_by_catalog_database_or_default(rehearsal):
    """Views are made for the tables a query names only: a CTE's name is no table, and a table
    the catalog lacks fails the query as Athena's would."""
    assert rehearsal.run_execution(DATASET, NORMAL).status == "SUCCEEDED"
    query_id = start_query(
        rehearsal,
        "WITH big AS (SELECT n FROM awsdatacatalog.mini_dev.numbers) "
        "SELECT count(*) FROM big JOIN numbers USING (n)",
    )
    results = rehearsal.client("athena").get_query_results(QueryExecutionId=query_id)
    rows = results["ResultSet"]["Rows"]
    assert int(rows[1]["Data"][0]["VarCharValue"]) == ROWS * LIBRARY_FACTOR
    status = query_status(rehearsal, "SELECT n FROM mini_dev.nowhere")
    assert status["State"] == "FAILED"
    assert "nowhere" in status["StateChangeReason"]


def test_an_execution_name_with_a_dot_is_refused_with_its_cause_unescaped(rehearsal):
    result = rehearsal.run_execution(DATASET, NORMAL, name="bad.name")
    assert result.error == "InvalidExecutionName"
    # States.Format's \' came out as a quote (moto kept the backslashes, or broke the parse).
    assert result.cause == "name bad.name holds a '.'"
    assert "StartCrawler" not in result.path
