"""Starting the data workflow's state machine and waiting for it, never longer than allowed.

Only SUCCEEDED is success. Any other final status, an execution that cannot be found, and one
still running at the deadline (which is then stopped, so it cannot write after the clean-up)
are failures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.client import BaseClient

from dataops.integration.pacing import Pacing
from dataops.integration.report import CheckFailed

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
RECENT_EXECUTIONS = 10


@dataclass(frozen=True)
class WaitLimits:
    timeout_seconds: float
    poll_seconds: float


def _describe(sfn: BaseClient, execution_arn: str) -> dict:
    try:
        return sfn.describe_execution(executionArn=execution_arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        raise CheckFailed(f"execution {execution_arn} not found") from None


def _failure_detail(execution: dict) -> str:
    reasons = [execution.get(key) for key in ("error", "cause") if execution.get(key)]
    return f"{execution['status']}" + (f": {' - '.join(reasons)}" if reasons else "")


def start_execution(sfn: BaseClient, state_machine_arn: str, name: str, raw_prefix: str) -> str:
    response = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps({"raw_prefix": raw_prefix})
    )
    return response["executionArn"]


def wait_for_execution(
    sfn: BaseClient, execution_arn: str, limits: WaitLimits, pacing: Pacing
) -> str:
    """Poll until the execution ends; return a one-line summary or raise :class:`CheckFailed`."""
    started = pacing.clock()
    deadline = started + limits.timeout_seconds
    while True:
        execution = _describe(sfn, execution_arn)
        status = execution["status"]
        elapsed = pacing.clock() - started
        pacing.echo(f"  workflow: {status} after {elapsed:.0f} s")
        if status == SUCCEEDED:
            return f"{SUCCEEDED} in {elapsed:.0f} s"
        if status != RUNNING:
            raise CheckFailed(_failure_detail(execution), (execution_arn,))
        remaining = deadline - pacing.clock()
        if remaining <= 0:
            sfn.stop_execution(
                executionArn=execution_arn,
                error="IntegrationTestTimeout",
                cause=f"still running after {limits.timeout_seconds:.0f} s",
            )
            raise CheckFailed(
                f"still {RUNNING} after {limits.timeout_seconds:.0f} s; stopped it",
                (execution_arn,),
            )
        pacing.sleep(min(limits.poll_seconds, remaining))


def recent_executions(sfn: BaseClient, state_machine_arn: str) -> str:
    """Smoke check: the latest finished execution must have succeeded (none yet is fine)."""
    executions = sfn.list_executions(
        stateMachineArn=state_machine_arn, maxResults=RECENT_EXECUTIONS
    )["executions"]
    statuses = ", ".join(execution["status"] for execution in executions) or "none"
    finished = [execution for execution in executions if execution["status"] != RUNNING]
    if finished and finished[0]["status"] != SUCCEEDED:
        latest = finished[0]
        raise CheckFailed(
            f"latest finished execution {latest['name']} is {latest['status']}",
            (f"last {RECENT_EXECUTIONS} executions, newest first: {statuses}",),
        )
    return f"last {len(executions)} execution(s), newest first: {statuses}"
