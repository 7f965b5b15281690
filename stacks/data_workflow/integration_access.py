"""The role the delivery pipeline's post-deploy steps assume in this environment's account.

Trusted only by the tooling account's post-deploy step role of this environment (by ARN, as a
condition, so the role deploys before that one exists), and allowed only what the integration
run and the alarm watch do: seed and delete test-only objects and the state a test run's jobs
kept, start and follow every data set's workflow, read tables and every data set's state
(``_state/*/``), query through the environment's Athena workgroup, read published names and
alarms.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from dataops.integration.seeding import TEST_PREFIX_ROOT, TEST_YEAR
from dataops.resource_names import state_prefix
from stacks.data_workflow.access import (
    S3_LIST,
    S3_READ,
    attach,
    catalog_statement,
    key_statement,
    location_statements,
)
from stacks.data_workflow.layout import Location

SESSION_HOURS = 2
# The batch key of an integration run's executions (IntegrationRun.execution_name).
TEST_BATCH_PREFIX = "integration-"


@dataclass(frozen=True)
class IntegrationTestAccessProps:
    role_name: str
    trusted_role_arn: str
    tooling_account: str
    parameter_prefix: str
    raw_bucket: s3.IBucket
    curated_bucket: s3.IBucket
    table_buckets: tuple[s3.IBucket, ...]
    athena_results_bucket: s3.IBucket
    data_key: kms.IKey
    database_name: str
    workgroup_name: str
    state_machines: tuple[sfn.StateMachine, ...]
    alarms: tuple[cloudwatch.IAlarm, ...]


class IntegrationTestAccess(Construct):
    """``role``: least-privilege access for the post-deploy checks, assumed cross-account."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: IntegrationTestAccessProps
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            role_name=props.role_name,
            description="Assumed by the delivery pipeline's post-deploy steps (tooling account)",
            max_session_duration=cdk.Duration.hours(SESSION_HOURS),
            assumed_by=iam.AccountPrincipal(props.tooling_account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": props.trusted_role_arn}}
            ),
        )
        test_partitions = f"*={TEST_YEAR}-*"
        statements = [
            iam.PolicyStatement(
                sid="SeedAndRemoveTestObjects",
                actions=[*S3_READ, "s3:PutObject", "s3:DeleteObject"],
                resources=[props.raw_bucket.arn_for_objects(f"{TEST_PREFIX_ROOT}*")],
            ),
            iam.PolicyStatement(
                sid="RemoveTestPartitions",
                actions=["s3:DeleteObject"],
                resources=[
                    bucket.arn_for_objects(test_partitions) for bucket in props.table_buckets
                ],
            ),
            # What a run's jobs kept for its own raw root and batch: IAM cannot tell a test
            # run's root (a hash of its raw prefix) from another's; the clean-up deletes only
            # its own (dataops.integration.cleanup). Run records are never deleted.
            iam.PolicyStatement(
                sid="RemoveTestState",
                actions=["s3:DeleteObject"],
                resources=[
                    props.curated_bucket.arn_for_objects(f"{state_prefix('*')}/{part}")
                    for part in ("raw/*", "queues/*", f"work/*/{TEST_BATCH_PREFIX}*")
                ],
            ),
            iam.PolicyStatement(
                sid="ReadTablesAndState",
                actions=list(S3_READ),
                resources=[bucket.arn_for_objects("*") for bucket in props.table_buckets],
            ),
            iam.PolicyStatement(
                sid="ListBuckets",
                actions=list(S3_LIST),
                resources=[
                    bucket.bucket_arn for bucket in (props.raw_bucket, *props.table_buckets)
                ],
            ),
            *location_statements([Location(props.athena_results_bucket, "")], write=True),
            key_statement(props.data_key),
            catalog_statement(stack, props.database_name, ["*"], write=False),
            iam.PolicyStatement(
                sid="RunTheDataWorkflows",
                actions=[
                    "states:StartExecution",
                    "states:DescribeStateMachine",
                    "states:ListExecutions",
                ],
                resources=[machine.state_machine_arn for machine in props.state_machines],
            ),
            iam.PolicyStatement(
                sid="FollowTheDataWorkflows",
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[
                    stack.format_arn(
                        service="states",
                        resource="execution",
                        resource_name=f"{machine.state_machine_name}:*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                    for machine in props.state_machines
                ],
            ),
            iam.PolicyStatement(
                sid="QueryThroughTheWorkgroup",
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:StopQueryExecution",
                    "athena:GetWorkGroup",
                ],
                resources=[
                    stack.format_arn(
                        service="athena", resource="workgroup", resource_name=props.workgroup_name
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="ReadPublishedNames",
                actions=["ssm:GetParameters", "ssm:GetParameter"],
                resources=[
                    stack.format_arn(
                        service="ssm",
                        resource="parameter",
                        resource_name=f"{props.parameter_prefix.strip('/')}/*",
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="WatchAlarms",
                actions=["cloudwatch:DescribeAlarms"],
                resources=[alarm.alarm_arn for alarm in props.alarms],
            ),
        ]
        attach(
            self.role,
            statements,
            "Test-only objects under the integration run's prefix and 2001 partitions, the "
            "environment's own tables and data set state, query results and workflow "
            "executions; nothing else.",
        )
