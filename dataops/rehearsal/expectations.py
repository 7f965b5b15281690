"""What an execution's history must show, and how it differs: the path a scenario expects.

An :class:`Expected` describes an execution by what a person would say of it (it succeeded;
the mart job ran twice; the data checks queried every table; one failure notice named the
crawler), and :func:`path_problems` compares it with the history, finding states by what they
do in the definition (the Task resource they call, their type), never by name, so it holds for
any job graph and any data set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dataops.rehearsal.execution import (
    ExecutionResult,
    all_states,
    failure_path,
    flow_order,
    integration,
)

GLUE_JOB_RUN = "glue:startJobRun"
ATHENA_QUERY = "athena:startQueryExecution"
SNS_PUBLISH = "sns:publish"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"


class CheckPath(StrEnum):
    """How far the data checks went: every checked table ``QUERIED`` once, each ``SKIPPED``
    (its run record read, no partition written, so no query), ``AS_WRITTEN`` (each table the
    execution wrote queried once, each other skipped), a contract ``VIOLATED`` (a branch
    reached its contract's Fail state), or ``NOT_REACHED``."""

    QUERIED = "queried"
    SKIPPED = "skipped"
    AS_WRITTEN = "as written"
    VIOLATED = "violated"
    NOT_REACHED = "not reached"


@dataclass(frozen=True)
class Expected:
    """An execution as a scenario expects it; the defaults describe a clean run.

    ``job_runs``: runs started of the Glue jobs named (job-graph names), every other job once;
    ``failed_job``: the job whose last run failed the execution (every run of it failed; of
    the others, all but the last); ``quarantined_objects``: raw objects quarantined whole,
    which the attention notice announces (none: no notice); ``failed_step``: what the failure
    notice names (one is published whenever the execution fails)."""

    status: str = SUCCEEDED
    error: str | None = None
    job_runs: Mapping[str, int] | None = None
    failed_job: str | None = None
    checks: CheckPath = CheckPath.QUERIED
    quarantined_objects: int = 0
    failed_step: str | None = None

    def failed_runs(self, glue_job: str, runs: int) -> int:
        """How many of the Glue job's ``runs`` must have failed."""
        failing = [self.failed_job] if self.failed_job else []
        return runs if job_name_of(glue_job, failing) else max(runs - 1, 0)


def job_name_of(glue_job: str, jobs: Iterable[str]) -> str | None:
    """The job-graph name among ``jobs`` that deployed Glue job ``glue_job`` runs (its name is
    ``<project>-<env>-<data set>-<job>``)."""
    return next((job for job in jobs if glue_job == job or glue_job.endswith(f"-{job}")), None)


def glue_jobs(definition: dict[str, Any]) -> list[str]:
    """The Glue jobs the definition runs, in its order."""
    states = all_states(definition)
    return [
        states[name]["Parameters"]["JobName"]
        for name in flow_order(definition)
        if integration(states[name]) == GLUE_JOB_RUN
    ]


def scheduled_job_runs(result: ExecutionResult) -> list[str]:
    """The Glue job of every job run the execution started, in order."""
    return [
        json.loads(event["taskScheduledEventDetails"]["parameters"])["JobName"]
        for event in result.events_of("TaskScheduled")
        if f"{event['taskScheduledEventDetails']['resourceType']}:"
        f"{event['taskScheduledEventDetails']['resource']}".startswith(GLUE_JOB_RUN)
    ]


def _expected_runs(expected: Expected, glue_job: str) -> int:
    runs = expected.job_runs or {}
    job = job_name_of(glue_job, runs)
    return runs[job] if job is not None else 1


def _check_branches(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The branches of the Parallel states that query Athena (the data checks)."""
    return [
        branch
        for state in all_states(definition).values()
        if state.get("Type") == "Parallel"
        for branch in state["Branches"]
        if any(integration(inner) == ATHENA_QUERY for inner in all_states(branch).values())
    ]


# What a data check's Choice reads to decide whether its table was written (the run record
# of the table's producer, read into ``$.producer``).
_WRITTEN_VARIABLE = re.compile(r"^\$\.producer\.record\.tables\.(\w+)\.dt_sql$")


def _branch_table(branch: dict[str, Any]) -> str | None:
    """The table a data check branch checks, as its written-or-not Choice names it."""
    for state in all_states(branch).values():
        for choice in state.get("Choices", []):
            for condition in choice.get("And", [choice]):
                match = _WRITTEN_VARIABLE.match(condition.get("Variable", ""))
                if match:
                    return match.group(1)
    return None


def _as_written_problems(
    branches: list[dict[str, Any]], path: list[str], written: frozenset[str]
) -> list[str]:
    problems = []
    for branch in branches:
        table = _branch_table(branch)
        queries = [
            name for name, state in all_states(branch).items() if integration(state) == ATHENA_QUERY
        ]
        entered = sum(path.count(name) for name in queries)
        wanted = 1 if table in written else 0
        if table is None or entered != wanted or path.count(branch["StartAt"]) != 1:
            problems.append(
                f"data check of {table}: {entered} query(ies), expected {wanted} (the execution "
                f"{'wrote' if wanted else 'did not write'} it)"
            )
    return problems


def _check_problems(
    result: ExecutionResult, expected: CheckPath, written: frozenset[str]
) -> list[str]:
    branches = _check_branches(result.definition)
    path = result.path
    if expected is CheckPath.AS_WRITTEN:
        return _as_written_problems(branches, path, written)
    queries = [
        name
        for branch in branches
        for name, state in all_states(branch).items()
        if integration(state) == ATHENA_QUERY
    ]
    starts = [branch["StartAt"] for branch in branches]
    violations = [
        name
        for branch in branches
        for name, state in all_states(branch).items()
        if state["Type"] == "Fail"
    ]
    queried = [name for name in queries if name in path]
    if expected is CheckPath.QUERIED and any(path.count(name) != 1 for name in queries):
        return [f"Athena checks entered {queried}, expected each of {queries} once"]
    if expected is CheckPath.SKIPPED and (queried or any(path.count(name) != 1 for name in starts)):
        return [f"data checks: expected each of {starts} once and no query, entered {queried}"]
    if expected is CheckPath.VIOLATED and not any(name in path for name in violations):
        return [f"no data check reached a contract violation ({', '.join(violations)})"]
    if expected is CheckPath.NOT_REACHED and any(name in path for name in starts):
        return ["the data checks ran, expected the execution to end before them"]
    return []


def _notice_problems(result: ExecutionResult, expected: Expected) -> list[str]:
    states = all_states(result.definition)
    failing = failure_path(result.definition)
    publishes = [name for name, state in states.items() if integration(state) == SNS_PUBLISH]
    failure = [name for name in publishes if name in failing]
    attention = [name for name in publishes if name not in failing]
    problems = []
    for kind, names, wanted in (
        ("failure", failure, expected.status == FAILED),
        ("attention", attention, expected.quarantined_objects > 0),
    ):
        entered = sum(result.path.count(name) for name in names)
        if entered != int(wanted):
            problems.append(f"{kind} notice published {entered} time(s), expected {int(wanted)}")
    return problems


def message_problems(messages: list[str], dataset: str, expected: Expected) -> list[str]:
    """How the messages the topic delivered for the execution differ from its notices: a
    failure notice naming the data set and the failed step when it failed, an attention notice
    counting the objects quarantined whole when there were any, nothing else."""
    documents = [json.loads(message) for message in messages]
    failures = [document for document in documents if "failedStep" in document]
    notices = [document for document in documents if "objectsQuarantined" in document]
    wanted = {
        "failure": [(dataset, expected.failed_step)] if expected.status == FAILED else [],
        "attention": [(dataset, expected.quarantined_objects)]
        if expected.quarantined_objects
        else [],
    }
    got = {
        "failure": [(d.get("dataset"), d["failedStep"]) for d in failures],
        "attention": [(d.get("dataset"), d["objectsQuarantined"]) for d in notices],
    }
    problems = [
        f"{kind} messages {got[kind]}, expected {wanted[kind]}"
        for kind in wanted
        if got[kind] != wanted[kind]
    ]
    others = len(documents) - len(failures) - len(notices)
    if others:
        problems.append(f"{others} other message(s) arrived")
    return problems


def path_problems(
    result: ExecutionResult, expected: Expected, written: frozenset[str] = frozenset()
) -> list[str]:
    """How the execution's history differs from ``expected``: its status and error; it starts
    at ``StartAt`` and ends in a Succeed state (or a Fail state); it enters the failure path
    only when it fails; each Glue job's runs, started in the definition's order, and no other
    task failing; how far the data checks went (``written``: the tables the execution wrote,
    for ``CheckPath.AS_WRITTEN``); which notices it published."""
    definition = result.definition
    states = all_states(definition)
    path = result.path
    top_level = [name for name in path if name in definition["States"]]
    problems = []
    if (result.status, result.error) != (expected.status, expected.error):
        problems.append(
            f"ended {result.status} ({result.error}), expected {expected.status} ({expected.error})"
        )
    if path[:1] != [definition["StartAt"]]:
        problems.append(f"starts at {path[:1]}, not at {definition['StartAt']}")
    end = "Succeed" if expected.status == SUCCEEDED else "Fail"
    if not top_level or states[top_level[-1]]["Type"] != end:
        problems.append(f"ends in {top_level[-1:]}, not in a {end} state")
    failing = [name for name in dict.fromkeys(path) if name in failure_path(definition)]
    if bool(failing) != (expected.status == FAILED):
        problems.append(f"failure path entered: {', '.join(failing) or 'none'}")
    jobs = glue_jobs(definition)
    started = scheduled_job_runs(result)
    for job in jobs:
        if started.count(job) != _expected_runs(expected, job):
            problems.append(
                f"{job}: {started.count(job)} run(s) started, expected "
                f"{_expected_runs(expected, job)}"
            )
    first_runs = list(dict.fromkeys(started))
    if first_runs != [job for job in jobs if job in first_runs]:
        problems.append(f"Glue jobs started in the order {first_runs}, the definition's is {jobs}")
    for event in result.events_of("TaskFailed"):
        details = event["taskFailedEventDetails"]
        if f"{details.get('resourceType')}:{details.get('resource')}".startswith(GLUE_JOB_RUN):
            continue
        problems.append(f"a task failed: {details.get('error')}: {details.get('cause')}")
    return [
        *problems,
        *_check_problems(result, expected.checks, written),
        *_notice_problems(result, expected),
    ]
