"""The Step Functions definition of each data set: its job graph's order with the run's
arguments, bounded crawler polling, a failure path naming the failed step, data checks over the
partitions the run wrote (read from the producers' run records), the attention notice."""

from __future__ import annotations

from typing import Any

import pytest

from dataops.datasets import DataSet
from dataops.resource_names import glue_job_name, state_machine_name
from jobkit.context import batch_key
from tests.infra.cfn import all_states, rendered, resources, state_machines

pytestmark = pytest.mark.xdist_group("synth")

# ASCII characters outside [A-Za-z0-9_-] that Step Functions refuses in an execution name.
REFUSED_BY_STEP_FUNCTIONS = ' <>{}[]?*"#%\\^|~`$&,;:/'


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
def env_template(request, built_app) -> tuple[str, dict[str, Any]]:
    from aws_cdk.assertions import Template

    stack = built_app.stages[request.param].data_workflow
    return request.param, Template.from_stack(stack).to_json()


def _machines(project, env: str, template: dict[str, Any]) -> list[tuple[DataSet, dict]]:
    machines = state_machines(template)
    return [
        (dataset, machines[state_machine_name(project.config.project, env, dataset.name)])
        for dataset in project.datasets.values()
    ]


def _jobs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in body["States"].values() if "glue:startJobRun" in str(s.get("Resource"))]


def test_job_order_is_each_data_set_s_job_graph(env_template, project):
    env, template = env_template
    for dataset, body in _machines(project, env, template):
        expected = [
            glue_job_name(project.config.project, env, dataset.name, name)
            for name in dataset.job_graph.names
        ]
        assert glue_job_order(body["States"], body["StartAt"]) == expected


def test_jobs_run_sync_with_the_run_arguments_and_retry_transient_glue_errors(
    env_template, project
):
    from stacks.data_workflow.workflow import GLUE_TRANSIENT_ERRORS

    env, template = env_template
    for _, body in _machines(project, env, template):
        for state in _jobs(body):
            assert state["Resource"].endswith("glue:startJobRun.sync")
            arguments = state["Parameters"]["Arguments"]
            assert arguments["--batch_id.$"] == "$$.Execution.Name"
            assert arguments["--raw_uri.$"].startswith("States.Format('s3://{}/{}', ")
            assert arguments["--raw_uri.$"].endswith(", $.run.raw_prefix)")
            assert arguments["--replay.$"] == "$.run.replay"
            transient = state["Retry"][0]
            assert set(transient["ErrorEquals"]) == set(GLUE_TRANSIENT_ERRORS)
            assert transient["BackoffRate"] > 1
            (catch,) = state["Catch"]
            recorded = body["States"][catch["Next"]]
            assert recorded["Result"] == {"step": f"job {state['ResultPath'].split('.')[-1]}"}
            assert recorded["Next"] == "NotifyFailure"


def test_failed_job_runs_are_retried_by_the_workflow_as_configured(env_template, project):
    """Config's ``max_retries`` is the workflow's: a Glue-side retry is a new job run the
    ``.sync`` task would not wait for; a rerun of the same batch resumes its manifest."""
    from stacks.data_workflow.workflow import JOB_FAILURE_ERRORS

    env, template = env_template
    retries = project.config.environment(env).glue.max_retries
    for _, body in _machines(project, env, template):
        for state in _jobs(body):
            on_failure = [
                r for r in state["Retry"] if set(r["ErrorEquals"]) == set(JOB_FAILURE_ERRORS)
            ]
            assert [r["MaxAttempts"] for r in on_failure] == ([retries] if retries else [])


def test_input_defaults_are_the_data_set_s_prefix_and_no_replay(env_template, project):
    env, template = env_template
    for dataset, body in _machines(project, env, template):
        start = body["States"][body["StartAt"]]
        assert start["Parameters"]["defaults"] == {
            "raw_prefix": dataset.spec.raw.prefix,
            "replay": "none",
        }
        merge = body["States"][start["Next"]]
        assert merge["Parameters"]["run.$"] == "States.JsonMerge($.defaults, $.input, false)"


def test_execution_names_the_batch_key_would_change_are_refused_before_any_work(
    env_template, project
):
    """The run records' key is the execution name itself (JSONPath cannot replace
    characters): names with a character ``batch_key`` replaces never start a job."""
    from stacks.data_workflow.run_records import UNSAFE_NAME_CHARACTERS

    env, template = env_template
    for _, body in _machines(project, env, template):
        states = body["States"]
        merge = states[states[body["StartAt"]]["Next"]]
        check = states[merge["Next"]]
        (refuse,) = check["Choices"]
        patterns = {rule["StringMatches"] for rule in refuse["Or"]}
        assert {rule["Variable"] for rule in refuse["Or"]} == {"$$.Execution.Name"}
        assert patterns == {f"*{c}*" for c in UNSAFE_NAME_CHARACTERS}
        refused = states[refuse["Next"]]
        assert refused["Parameters"]["Error"] == "InvalidExecutionName"
        assert states[refused["Next"]]["Next"] == "NotifyFailure"
        first_work = states[check["Default"]]["Resource"]
        assert first_work.endswith((":glue:startCrawler", "glue:startJobRun.sync"))


def test_the_refused_characters_are_all_that_batch_key_would_change():
    from stacks.data_workflow.run_records import UNSAFE_NAME_CHARACTERS

    printable = [chr(code) for code in range(0x21, 0x7F)]
    changed = {c for c in printable if batch_key(c) != c}
    assert changed - set(REFUSED_BY_STEP_FUNCTIONS) == set(UNSAFE_NAME_CHARACTERS)


def test_crawler_is_started_then_polled_a_bounded_number_of_times(env_template, project):
    from stacks.data_workflow.workflow import CRAWLER_MAX_POLLS

    env, template = env_template
    for dataset, body in _machines(project, env, template):
        states = body["States"]
        if dataset.spec.crawler is None:
            assert "StartCrawler" not in states
            continue
        start = states["StartCrawler"]
        assert start["Resource"].endswith(":aws-sdk:glue:startCrawler")
        assert start["Catch"][0]["ErrorEquals"] == ["Glue.CrawlerRunningException"]
        assert states["GetCrawler"]["Resource"].endswith(":aws-sdk:glue:getCrawler")
        poll = states["CrawlerReady?"]
        bound = [c for c in poll["Choices"] if "NumericGreaterThanEquals" in c]
        assert bound[0]["NumericGreaterThanEquals"] == CRAWLER_MAX_POLLS
        timed_out = states[bound[0]["Next"]]
        assert states[timed_out["Next"]]["Result"] == {"step": "crawler"}
        assert states[poll["Default"]]["Parameters"]["count.$"].startswith("States.MathAdd(")


def test_every_failure_names_its_step_then_one_message_then_fail(env_template, project):
    from stacks.data_workflow.data_checks import CONTRACT_VIOLATED

    env, template = env_template
    for dataset, body in _machines(project, env, template):
        states = all_states(body)
        notify = states["NotifyFailure"]
        assert notify["Resource"].endswith(":sns:publish")
        message = notify["Parameters"]["Message"]
        assert message["dataset"] == dataset.name
        assert message["failedStep.$"] == "$.failed.step"
        assert message["error.$"] == "$.error"
        assert states[notify["Next"]]["Type"] == "Fail"
        for state in states.values():
            for catch in state.get("Catch", []):
                target = states[catch["Next"]]
                if catch["Next"] in {"BeginPolling", "NotifyFailure"}:
                    continue
                assert target["ResultPath"] == "$.failed"
                assert target["Result"]["step"]
                if catch["ErrorEquals"] == [CONTRACT_VIOLATED]:
                    counted = states[target["Next"]]
                    assert counted["Resource"].endswith("cloudwatch:putMetricData")
                    assert counted["Next"] == "NotifyFailure"
                else:
                    assert target["Next"] == "NotifyFailure"


def test_data_checks_read_run_records_and_query_only_the_written_partitions(env_template, project):
    from stacks.data_workflow.data_quality import (
        checked_contracts,
        contract_rules,
        violations_query,
    )
    from stacks.data_workflow.names import pascal

    env, template = env_template
    for dataset, body in _machines(project, env, template):
        checks = body["States"]["DataChecks"]
        assert checks["Type"] == "Parallel"
        branches = {branch["StartAt"]: branch["States"] for branch in checks["Branches"]}
        checked = checked_contracts(dataset.contracts)
        assert len(branches) == len(checked)
        for contract in checked:
            producer = dataset.job_graph.producer_of(contract.name).name
            name = pascal(contract.name)
            states = branches[f"Read{name}RunRecord"]
            read = states[f"Read{name}RunRecord"]
            assert read["Resource"].endswith(":aws-sdk:s3:getObject")
            assert read["Parameters"]["Key.$"] == (
                f"States.Format('_state/{dataset.name}/runs/{{}}/{producer}.json', "
                "$$.Execution.Name)"
            )
            assert rendered(read["Parameters"]["Bucket"]).startswith("<StorageCurated")
            assert read["ResultSelector"] == {"record.$": "States.StringToJson($.Body)"}
            partitions = f"$.producer.record.tables.{contract.name}.dt_sql"
            written = states[read["Next"]]
            (rule,) = written["Choices"]
            assert {"Variable": partitions, "IsPresent": True} in rule["And"]
            assert states[written["Default"]]["Type"] == "Succeed"
            query = states[rule["Next"]]
            assert query["Resource"].endswith("athena:startQueryExecution.sync")
            template_text = violations_query(contract, "{}").replace("'", "\\'")
            arguments = ", ".join([partitions] * len(contract_rules(contract)))
            assert query["Parameters"]["QueryString.$"] == (
                f"States.Format('{template_text}', {arguments})"
            )
        assert body["States"][checks["Catch"][0]["Next"]]["Next"] == "CountDataCheckFailure"


def test_attention_announces_quarantined_objects_and_succeeds(env_template, project):
    env, template = env_template
    for dataset, body in _machines(project, env, template):
        states = body["States"]
        raw_job = dataset.job_graph.raw_jobs[0]
        read = states["ReadRawJobRunRecord"]
        assert f"/runs/{{}}/{raw_job.name}.json" in read["Parameters"]["Key.$"]
        decide = states[read["Next"]]
        (notice_rule,) = decide["Choices"]
        assert {"Variable": "$.attention.record.objects_quarantined", "NumericGreaterThan": 0} in (
            notice_rule["And"]
        )
        notice = states[notice_rule["Next"]]
        assert notice["Resource"].endswith(":sns:publish")
        assert states[notice["Next"]]["Type"] == "Succeed"
        assert states[decide["Default"]]["Type"] == "Succeed"


def test_the_state_machine_reads_only_run_records_of_its_state(env_template, project):
    from stacks.data_workflow.names import pascal

    _, template = env_template
    policies = resources(template, "AWS::IAM::Policy")
    for dataset in project.datasets.values():
        name = f"DataSet{pascal(dataset.name)}"
        statements = [
            statement
            for logical_id, policy in policies.items()
            if logical_id.startswith(f"{name}WorkflowStateMachineRole")
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        state_access = [
            (action, rendered(resource))
            for statement in statements
            for action in (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            for resource in (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            )
            if "_state" in rendered(resource)
        ]
        assert state_access
        assert {action for action, _ in state_access} == {"s3:GetObject"}
        assert {resource.split(">", 1)[1] for _, resource in state_access} == {
            f"/_state/{dataset.name}/runs/*"
        }
