"""Reading a job's run record from a data set's state machine, and the execution names that
make its key derivable.

Every job run leaves ``_state/<data set>/runs/<batch key>/<job>.json`` (:mod:`jobkit.ledger`):
its counts and, per table, the partitions it wrote. The batch is the execution name, and its
key is the name with every character outside ``[A-Za-z0-9_-]`` replaced by ``_``
(:func:`jobkit.context.batch_key`). JSONPath intrinsics cannot replace characters (JSONata
could, but moto's executing Step Functions backend, which the cloud rehearsal runs every state
machine on, does not evaluate JSONata), so the workflow refuses, before any job runs, an
execution name ``batch_key`` would change: the key is then the name itself. Those are also the
only names Step Functions logs to CloudWatch Logs. A non-ASCII name cannot be recognised with
JSONPath's wildcard matching; its first record read fails, and the failure is reported with
that step.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from dataops.resource_names import state_prefix

# ASCII characters Step Functions accepts in an execution name and batch_key replaces; every
# other ASCII character outside [A-Za-z0-9_-] is refused by Step Functions itself.
UNSAFE_NAME_CHARACTERS = "!'()+.=@"
RECORD = "record"


def unsafe_execution_name() -> sfn.Condition:
    """True when the execution name holds a character ``batch_key`` would replace."""
    return sfn.Condition.or_(
        *(
            sfn.Condition.string_matches(sfn.JsonPath.execution_name, f"*{character}*")
            for character in UNSAFE_NAME_CHARACTERS
        )
    )


def runs_prefix(dataset: str) -> str:
    return f"{state_prefix(dataset)}/runs"


def run_records_arn(bucket: s3.IBucket, dataset: str) -> str:
    """Every run record of ``dataset``: all a state machine may read of its state."""
    return bucket.arn_for_objects(f"{runs_prefix(dataset)}/*")


def read_run_record(
    scope: Construct,
    construct_id: str,
    *,
    bucket: s3.IBucket,
    dataset: str,
    job: str,
    result_path: str,
) -> tasks.CallAwsService:
    """A task putting ``job``'s record of this execution at ``<result_path>.record``."""
    task = tasks.CallAwsService(
        scope,
        construct_id,
        service="s3",
        action="getObject",
        iam_action="s3:GetObject",
        iam_resources=[run_records_arn(bucket, dataset)],
        parameters={
            "Bucket": bucket.bucket_name,
            "Key": sfn.JsonPath.format(
                f"{runs_prefix(dataset)}/{{}}/{job}.json", sfn.JsonPath.execution_name
            ),
        },
        result_selector={RECORD: sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.Body"))},
        result_path=result_path,
    )
    task.add_retry(max_attempts=2, interval=cdk.Duration.seconds(5), backoff_rate=2)
    return task
