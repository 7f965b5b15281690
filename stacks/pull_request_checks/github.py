"""A GitHub pull request starts the build through a webhook; CodeBuild reports its status.

CodeBuild reaches GitHub through the same CodeConnections connection the delivery pipeline
uses (``source.connection_arn``). Builds of pull requests from forks wait for a maintainer's
approving comment: their code is nobody's on the team. A connection cannot comment, so the
data diff report is commented with a token, and only when the project names a secret holding
one (``source.github_token_secret``): the build gets its value, and its role may read that
secret and no other. The build runs the pull request's code, which could read the token too:
give it a fine-grained token that may only write pull request comments of this repository.
"""

from __future__ import annotations

from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from dataops.config import SourceConfig
from dataops.pull_request_report import TOKEN_VARIABLE
from stacks.connection_permissions import connection_actions

PULL_REQUEST_EVENTS = (
    codebuild.EventAction.PULL_REQUEST_CREATED,
    codebuild.EventAction.PULL_REQUEST_UPDATED,
    codebuild.EventAction.PULL_REQUEST_REOPENED,
)
# Who may approve a fork's build with a comment (and whose own pull requests build at once).
FORK_BUILD_APPROVERS = ("GITHUB_WRITE", "GITHUB_MAINTAIN", "GITHUB_ADMIN")
CONNECTION_ACTIONS = ("GetConnection", "GetConnectionToken", "UseConnection")


def github_source(source: SourceConfig, status_context: str) -> codebuild.ISource:
    """Pull requests into ``source.branch`` created, updated or reopened; the commit status is
    reported under ``status_context``, the name a branch protection rule can require."""
    return codebuild.Source.git_hub(
        owner=str(source.owner),
        repo=source.repository,
        webhook=True,
        webhook_filters=[
            codebuild.FilterGroup.in_event_of(*PULL_REQUEST_EVENTS).and_base_branch_is(
                source.branch
            )
        ],
        report_build_status=True,
        build_status_context=status_context,
    )


def use_connection(project: codebuild.Project, connection_arn: str) -> None:
    """Authenticate the source (clone, webhook, status) through the connection, and require a
    maintainer's comment before a fork's pull request builds."""
    cfn_project = project.node.default_child
    if not isinstance(cfn_project, codebuild.CfnProject):
        raise TypeError(f"{project.node.path}: not a CodeBuild project of this app")
    cfn_project.add_property_override(
        "Source.Auth", {"Type": "CODECONNECTIONS", "Resource": connection_arn}
    )
    cfn_project.add_property_override(
        "Triggers.PullRequestBuildPolicy",
        {
            "RequiresCommentApproval": "FORK_PULL_REQUESTS",
            "ApproverRoles": list(FORK_BUILD_APPROVERS),
        },
    )
    project.add_to_role_policy(
        iam.PolicyStatement(
            actions=connection_actions(connection_arn, *CONNECTION_ACTIONS),
            resources=[connection_arn],
        )
    )


def github_token(source: SourceConfig) -> dict[str, codebuild.BuildEnvironmentVariable]:
    """The token secret as the build's ``GITHUB_TOKEN`` when one is configured (CodeBuild
    resolves it at the build's start; CDK grants the role ``secretsmanager:GetSecretValue`` on
    that secret alone)."""
    if source.github_token_secret is None:
        return {}
    return {
        TOKEN_VARIABLE: codebuild.BuildEnvironmentVariable(
            type=codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER,
            value=source.github_token_secret,
        )
    }
