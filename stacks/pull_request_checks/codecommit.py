"""A CodeCommit pull request starts the build at its source commit; its result comes back as a
comment and an approval state.

EventBridge starts the build when a pull request into the branch is created or its source
branch is updated, and hands the build what the report needs as build variables. The report is
written by a function, never by the build (the function reads the build's data diff report
from its artifacts, and may read nothing else): the build runs the pull request's own code, so it
must not be able to approve anything. The same function puts an approval rule on every pull
request when it opens (the function's role is its only approver), so nothing merges before the
checks pass. Events EventBridge cannot deliver, and reports that still fail after Lambda's
retries, land in a dead-letter queue instead of vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dataops.project import PROJECT_ROOT
from dataops.pull_request_reporter.handler import (
    APPROVAL_RULE_SETTING,
    APPROVER_ROLE_SETTING,
    BUILD_VARIABLES,
)
from stacks.dependencies import depend_on_role_policy_only
from stacks.key_policies import cloudwatch_logs_may_use

REPORTER_CODE = PROJECT_ROOT / "dataops" / "pull_request_reporter"
REPORTER_RUNTIME = lambda_.Runtime.PYTHON_3_14
PULL_REQUEST_EVENTS = ("pullRequestCreated", "pullRequestSourceBranchUpdated")
# Where each of the reporter's build variables comes from in the pull request event; the
# repository's name is known when the stack is built.
EVENT_PATHS = {
    "PULL_REQUEST_ID": "$.detail.pullRequestId",
    "SOURCE_COMMIT": "$.detail.sourceCommit",
    "DESTINATION_COMMIT": "$.detail.destinationCommit",
    "REVISION_ID": "$.detail.revisionId",
}
REPOSITORY_VARIABLE = "REPOSITORY_NAME"
REPORTER_ACTIONS = (
    "codecommit:GetPullRequest",
    "codecommit:CreatePullRequestApprovalRule",
    "codecommit:PostCommentForPullRequest",
    "codecommit:UpdatePullRequestApprovalState",
)
# What the reporter may do with the builds' artifacts: read them.
REPORT_READ_ACTIONS = ("s3:GetObject",)
LOG_RETENTION = logs.RetentionDays.ONE_YEAR


@dataclass(frozen=True)
class CodeCommitPullRequestsProps:
    repository: codecommit.IRepository
    branch: str
    project: codebuild.IProject
    key: kms.IKey
    # Names the approval rule and the reporter's role, so a pull request says who approved it.
    name_prefix: str
    # The builds' artifacts (the data diff report of each), encrypted with ``key``.
    reports: s3.IBucket


class CodeCommitPullRequests(Construct):
    """``started_by`` (the pull request rule), ``reporter`` and its ``role``, ``dead_letters``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: CodeCommitPullRequestsProps
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{props.name_prefix}-dead-letters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.role = self._reporter_role(props)
        self.reporter = self._reporter(props)
        self.started_by = props.repository.on_pull_request_state_change(
            "PullRequestChanged",
            description=f"Pull requests into {props.branch}: check them",
            event_pattern=events.EventPattern(
                detail={
                    "event": list(PULL_REQUEST_EVENTS),
                    "destinationReference": [f"refs/heads/{props.branch}"],
                    "pullRequestStatus": ["Open"],
                }
            ),
        )
        self.started_by.add_target(
            targets.CodeBuildProject(
                props.project,
                event=events.RuleTargetInput.from_object(
                    {
                        "sourceVersion": events.EventField.from_path("$.detail.sourceCommit"),
                        "environmentVariablesOverride": _build_variables(props.repository),
                    }
                ),
                dead_letter_queue=self.dead_letters,
            )
        )
        self.started_by.add_target(self._reporter_target())
        self.finished = props.project.on_state_change(
            "BuildStateChanged",
            description="Pull-request check builds: report them on their pull request",
            target=self._reporter_target(),
        )

    def _reporter_role(self, props: CodeCommitPullRequestsProps) -> iam.Role:
        role = iam.Role(
            self,
            "ReporterRole",
            role_name=f"{props.name_prefix}-reporter",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Comments on pull requests and approves those whose checks passed",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(REPORTER_ACTIONS), resources=[props.repository.repository_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(REPORT_READ_ACTIONS), resources=[props.reports.arn_for_objects("*")]
            )
        )
        props.key.grant_decrypt(role)
        return role

    def _reporter(self, props: CodeCommitPullRequestsProps) -> lambda_.Function:
        log_group_name = f"/aws/lambda/{props.name_prefix}-reporter"
        for statement in cloudwatch_logs_may_use(cdk.Stack.of(self), log_group_name):
            props.key.add_to_resource_policy(statement)
        log_group = logs.LogGroup(
            self,
            "ReporterLogs",
            log_group_name=log_group_name,
            retention=LOG_RETENTION,
            encryption_key=props.key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        reporter = lambda_.Function(
            self,
            "Reporter",
            function_name=f"{props.name_prefix}-reporter",
            runtime=REPORTER_RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(REPORTER_CODE), exclude=["__pycache__", "*.pyc"]),
            role=self.role,
            log_group=log_group,
            timeout=cdk.Duration.seconds(30),
            memory_size=256,
            description="Reports pull-request check results on CodeCommit pull requests",
            environment={
                APPROVAL_RULE_SETTING: props.name_prefix,
                APPROVER_ROLE_SETTING: self.role.role_name,
            },
            dead_letter_queue=self.dead_letters,
        )
        log_group.grant_write(self.role)
        depend_on_role_policy_only(reporter, self.role)
        return reporter

    def _reporter_target(self) -> targets.LambdaFunction:
        return targets.LambdaFunction(self.reporter, dead_letter_queue=self.dead_letters)


def _build_variables(repository: codecommit.IRepository) -> list[dict[str, str]]:
    """The variables the reporter reads (its ``BUILD_VARIABLES``), in the shape of StartBuild's
    ``environmentVariablesOverride``."""
    return [
        {
            "name": name,
            "type": "PLAINTEXT",
            "value": (
                repository.repository_name
                if name == REPOSITORY_VARIABLE
                else events.EventField.from_path(EVENT_PATHS[name])
            ),
        }
        for name in BUILD_VARIABLES
    ]
