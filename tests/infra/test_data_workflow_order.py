"""The Step Functions definition: same job order as the declared job graph, crawler polling
bounded, every failure notified, the data checks from the contracts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.data_workflow.data_quality import checked_contracts, violations_query
from stacks.data_workflow.glue_jobs import glue_job_name
from stacks.data_workflow.workflow import (
    CRAWLER_MAX_POLLS,
    GLUE_TRANSIENT_ERRORS,
    JOB_FAILURE_ERRORS,
)

pytestmark = pytest.mark.xdist_group("synth")


def definition(template: dict[str, Any]) -> dict[str, Any]:
    """The one state machine's definition; CloudFormation references become ``<...>``."""
    (machine,) = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    body = machine["Properties"]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(
        part if isinstance(part, str) else "<" + json.dumps(part).replace('"', "") + ">"
        for part in parts
    )
    return json.loads(text)


def glue_job_order(states: dict[str, Any], start: str) -> list[str]:
    """Glue job names in the order the workflow runs them: from ``start``, follow ``Next`` and
    every Choice branch depth-first, recording each ``startJobRun`` task once."""
    order: list[str] = []
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        if "glue:startJobRun" in str(state.get("Resource", "")):
            order.append(state["Parameters"]["JobName"])
        successors = [
            *([state["Default"]] if "Default" in state else []),
            *(choice["Next"] for choice in reversed(state.get("Choices", []))),
            *([state["Next"]] if "Next" in state else []),
        ]
        pending.extend(successors)
    return order


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def env_definition(request, built_app) -> tuple[str, dict[str, Any]]:
    stack = built_app.stages[request.param].data_workflow
    return request.param, definition(Template.from_stack(stack).to_json())


def test_job_order_is_the_declared_job_graph(env_definition, project):
    env, body = env_definition
    order = glue_job_order(body["States"], body["StartAt"])
    expected = [
        glue_job_name(project.config.project, env, name) for name in project.job_graph.names
    ]
    assert order == expected


def test_jobs_run_sync_with_the_run_arguments_and_retry_transient_glue_errors(env_definition):
    _, body = env_definition
    jobs = [s for s in body["States"].values() if "glue:startJobRun" in str(s.get("Resource"))]
    assert jobs
    for state in jobs:
        assert state["Resource"].endswith("glue:startJobRun.sync")
        arguments = state["Parameters"]["Arguments"]
        assert arguments["--batch_id.$"] == "$$.Execution.Name"
        assert "$.run.raw_prefix" in arguments["--raw_uri.$"]
        transient = state["Retry"][0]
        assert set(transient["ErrorEquals"]) == set(GLUE_TRANSIENT_ERRORS)
        assert transient["BackoffRate"] > 1
        assert [c["Next"] for c in state["Catch"]] == ["NotifyFailure"]


def test_failed_job_runs_are_retried_by_the_workflow_as_configured(env_definition, project):
    """Config's ``max_retries`` is the workflow's: a Glue-side retry is a new job run the
    ``.sync`` task would not wait for."""
    env, body = env_definition
    retries = project.config.environment(env).glue.max_retries
    jobs = [s for s in body["States"].values() if "glue:startJobRun" in str(s.get("Resource"))]
    for state in jobs:
        on_failure = [r for r in state["Retry"] if set(r["ErrorEquals"]) == set(JOB_FAILURE_ERRORS)]
        assert [r["MaxAttempts"] for r in on_failure] == ([retries] if retries else [])


def test_input_defaults_raw_prefix(env_definition):
    _, body = env_definition
    start = body["States"][body["StartAt"]]
    assert start["Parameters"]["defaults"] == {"raw_prefix": "AWSLogs/"}
    merge = body["States"][start["Next"]]
    assert merge["Parameters"]["run.$"] == "States.JsonMerge($.defaults, $.input, false)"


def test_crawler_is_started_then_polled_a_bounded_number_of_times(env_definition):
    _, body = env_definition
    states = body["States"]
    start = states["StartCrawler"]
    assert start["Resource"].endswith(":aws-sdk:glue:startCrawler")
    assert start["Catch"][0]["ErrorEquals"] == ["Glue.CrawlerRunningException"]
    assert states["GetCrawler"]["Resource"].endswith(":aws-sdk:glue:getCrawler")
    poll = states["CrawlerReady?"]
    bound = [c for c in poll["Choices"] if "NumericGreaterThanEquals" in c]
    assert bound[0]["NumericGreaterThanEquals"] == CRAWLER_MAX_POLLS
    assert states[bound[0]["Next"]]["Next"] == "NotifyFailure"
    assert states[poll["Default"]]["Parameters"]["count.$"].startswith("States.MathAdd(")
    assert states["NotifyFailure"]["Resource"].endswith(":sns:publish")
    assert states[states["NotifyFailure"]["Next"]]["Type"] == "Fail"


def test_data_checks_query_each_contract_on_athena_and_fail_on_a_row(env_definition, project):
    _, body = env_definition
    checks = body["States"]["DataChecks"]
    assert checks["Type"] == "Parallel"
    queries = {
        state["Parameters"]["QueryString"]
        for branch in checks["Branches"]
        for state in branch["States"].values()
        if str(state.get("Resource", "")).endswith("athena:startQueryExecution.sync")
    }
    assert queries == {violations_query(c) for c in checked_contracts(project.contracts)}
    assert body["States"][checks["Catch"][0]["Next"]]["Parameters"]["Namespace"]
