"""Starting data workflows (one state machine a data set) and waiting for them, never longer than
allowed.

Only SUCCEEDED is success. Any other final status, an execution that cannot be found, and one
still running at the deadline are failures. Whoever waits says whether an execution still running
at the deadline is stopped (the integration run's, so it cannot write after the clean-up) or left
to finish (one processing real data).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.client import BaseClient

from dataops.integration.pacing import Pacing

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
NOT_FOUND = "NOT_FOUND"
TIMEOUT_ERROR = "IntegrationTestTimeout"


@dataclass(frozen=True)
class WaitLimits:
    timeout_seconds: float
    poll_seconds: float

    def less(self, seconds: float) -> WaitLimits:
        """What is left of these limits after ``seconds`` of waiting."""
        return WaitLimits(max(0.0, self.timeout_seconds - seconds), self.poll_seconds)


@dataclass(frozen=True)
class ExecutionEnd:
    """How a waited-for execution ended, or that it had not at the deadline (``RUNNING``)."""

    arn: str
    status: str
    seconds: float
    detail: str

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


def stamp(now: datetime | None = None) -> str:
    """A UTC time for execution and batch names (letters, digits and '-' only)."""
    return f"{now or datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def start_execution(
    sfn: BaseClient, state_machine_arn: str, name: str, document: Mapping[str, str]
) -> str:
    """Start the data workflow with ``document`` as its input; return the execution's ARN."""
    response = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(dict(document))
    )
    return response["executionArn"]


def running_executions(sfn: BaseClient, state_machine_arn: str) -> list[dict]:
    """The data set's executions still running, newest first."""
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter=RUNNING
    )
    return [execution for page in pages for execution in page["executions"]]


def _failure_detail(execution: dict) -> str:
    reasons = [execution.get(key) for key in ("error", "cause") if execution.get(key)]
    return f"{execution['status']}" + (f": {' - '.join(reasons)}" if reasons else "")


def _describe(sfn: BaseClient, execution_arn: str) -> dict | None:
    try:
        return sfn.describe_execution(executionArn=execution_arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def wait_for_executions(
    sfn: BaseClient,
    executions: Mapping[str, str],
    limits: WaitLimits,
    pacing: Pacing,
    *,
    stop_at_deadline: bool,
) -> dict[str, ExecutionEnd]:
    """Poll every execution (label -> ARN) until all ended or the deadline passed."""
    started = pacing.clock()
    deadline = started + limits.timeout_seconds
    pending = dict(executions)
    ends: dict[str, ExecutionEnd] = {}
    while True:
        for label, arn in list(pending.items()):
            execution = _describe(sfn, arn)
            elapsed = pacing.clock() - started
            status = execution["status"] if execution else NOT_FOUND
            pacing.echo(f"  {label}: {status} after {elapsed:.0f} s")
            if execution is None:
                ends[label] = ExecutionEnd(arn, NOT_FOUND, elapsed, f"execution {arn} not found")
            elif status == SUCCEEDED:
                ends[label] = ExecutionEnd(arn, status, elapsed, f"{SUCCEEDED} in {elapsed:.0f} s")
            elif status != RUNNING:
                ends[label] = ExecutionEnd(arn, status, elapsed, _failure_detail(execution))
            if label in ends:
                del pending[label]
        remaining = deadline - pacing.clock()
        if not pending or remaining <= 0:
            break
        pacing.sleep(min(limits.poll_seconds, remaining))
    for label, arn in pending.items():
        detail = f"still {RUNNING} after {limits.timeout_seconds:.0f} s"
        if stop_at_deadline:
            sfn.stop_execution(executionArn=arn, error=TIMEOUT_ERROR, cause=detail)
            detail += "; stopped it"
        else:
            detail += "; left running"
        ends[label] = ExecutionEnd(arn, RUNNING, pacing.clock() - started, detail)
    return ends
