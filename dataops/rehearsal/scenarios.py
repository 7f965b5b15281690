"""Scenarios: what the rehearsal does to an environment and what must then be true.

A scenario is a function of a fresh :class:`~dataops.rehearsal.harness.Rehearsal` and a
:class:`~dataops.integration.runner.Checks` it records its checks in. Through the rehearsal it
can put raw objects (``put_raw_objects``), arm faults (``rehearsal.faults``: a Glue job run
failing on its Nth attempt, a crawl that never ends or fails, an Athena query answering given
rows), run executions (``run_execution``) and read their history (``ExecutionResult``), the
SNS messages (``messages``) and table contents (``query``). Checks find states by what they do
in the definition, never by name, so they hold for any job graph and any number of state
machines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from dataops.integration.mart_check import compare, mart_query, predicted_mart
from dataops.integration.report import CheckFailed
from dataops.integration.runner import Checks
from dataops.rehearsal.execution import (
    ExecutionResult,
    all_states,
    failure_path,
    flow_order,
    integration,
)
from dataops.rehearsal.harness import Rehearsal
from dataops.resource_names import PublishedResource
from dataops.sample_data import generate

# Small: the rehearsal proves the plumbing; run-local and the end-to-end test prove the data.
SAMPLE_RECORDS = 300
SAMPLE_DAYS = 2
SAMPLE_SEED = 7
GLUE_JOB_RUN = "glue:startJobRun"
ATHENA_QUERY = "athena:startQueryExecution"
SNS_PUBLISH = "sns:publish"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    run: Callable[[Rehearsal, Checks], None]


def clean_path_problems(result: ExecutionResult) -> list[str]:
    """How the execution's path differs from a clean run's: it starts at ``StartAt`` and ends
    in a Succeed state, enters no state of the failure path, no task failed (so nothing was
    retried), every Glue job run and Athena query state is entered exactly once, and the
    top-level job runs come in the definition's order."""
    definition = result.definition
    states = all_states(definition)
    path = result.path
    top_level = [name for name in path if name in definition["States"]]
    problems = []
    if path[:1] != [definition["StartAt"]]:
        problems.append(f"starts at {path[:1]}, not at {definition['StartAt']}")
    if not top_level or states[top_level[-1]]["Type"] != "Succeed":
        problems.append(f"ends in {top_level[-1:]}, not in a Succeed state")
    failing = [name for name in dict.fromkeys(path) if name in failure_path(definition)]
    if failing:
        problems.append(f"entered the failure path: {', '.join(failing)}")
    for event in result.events_of("TaskFailed"):
        details = event["taskFailedEventDetails"]
        problems.append(f"a task failed: {details.get('error')}: {details.get('cause')}")
    order = flow_order(definition)
    for kind in (GLUE_JOB_RUN, ATHENA_QUERY):
        expected = [name for name in order if integration(states[name]) == kind]
        entered = Counter(name for name in path if name in expected)
        if entered != Counter(expected):
            problems.append(
                f"{kind} states entered {dict(entered)}, expected each of {expected} once"
            )
    jobs = [name for name in top_level if integration(states[name]) == GLUE_JOB_RUN]
    expected_jobs = [name for name in order if name in jobs]
    if jobs != expected_jobs:
        problems.append(f"Glue job runs in the order {jobs}, the definition's is {expected_jobs}")
    return problems


def _published_messages(result: ExecutionResult) -> int:
    return sum(
        1
        for event in result.events_of("TaskSucceeded")
        if f"{event['taskSucceededEventDetails']['resourceType']}:"
        f"{event['taskSucceededEventDetails']['resource']}" == SNS_PUBLISH
    )


def clean(rehearsal: Rehearsal, checks: Checks) -> None:
    """Generated flow logs land in the raw bucket and every state machine runs once."""
    data = generate(
        rehearsal.work_dir / "sample-data", SAMPLE_RECORDS, SAMPLE_SEED, days=SAMPLE_DAYS
    )
    with checks.check("raw objects") as check:
        keys = rehearsal.put_raw_objects(data.out_dir)
        check.detail = f"{len(keys)} objects, {data.data_lines} data lines"
    for machine in rehearsal.resources.state_machines:
        received = len(rehearsal.messages())
        result = None
        with checks.check(f"{machine.name}: execution") as check:
            result = rehearsal.run_execution(state_machine=machine)
            if result.status != "SUCCEEDED":
                raise CheckFailed(result.summary())
            check.detail = f"SUCCEEDED, {len(result.path)} states entered"
        if result is None:  # it could not even start
            continue
        with checks.check(f"{machine.name}: path") as check:
            problems = clean_path_problems(result)
            if problems:
                raise CheckFailed(
                    f"{len(problems)} difference(s) from a clean run", tuple(problems)
                )
            check.detail = " -> ".join(
                name for name in result.path if name in machine.definition["States"]
            )
        with checks.check(f"{machine.name}: notifications") as check:
            published, arrived = _published_messages(result), len(rehearsal.messages()) - received
            if arrived != published:
                raise CheckFailed(f"{arrived} SNS message(s) arrived, {published} published")
            check.detail = f"{arrived} SNS message(s) for {published} publish(es) on the path"
    expected = data.expected_conn_stats()
    mart = predicted_mart(rehearsal.project.contracts, expected)
    with checks.check(f"mart {mart.name}") as check:
        database = rehearsal.published(PublishedResource.GLUE_DATABASE)
        dates = sorted({row[mart.partition_keys[0]] for row in expected})
        rows = rehearsal.query(mart_query(mart, database, dates))
        check.detail = compare(mart, expected, rows)


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "clean",
            "generated flow logs, one execution of each state machine: it succeeds along the "
            "clean path and the mart holds the predicted rows",
            clean,
        ),
    )
}
