"""The pull-request checks: a CodeBuild project that runs ``make pull-request-check`` on every
pull request into the configured branch, with the result reported on the pull request.

The delivery pipeline deploys this stack into its own (tooling) account, in its ``Tooling``
stage, so a merged change to the checks takes effect like any other change. The build runs the
pull request's own code: its role may read the source and write its logs, test reports and
cache, nothing else (no deploy, no data, no approval). GitHub: a webhook starts it and CodeBuild
sets the commit status (``stacks/pull_request_checks/github.py``). CodeCommit: an EventBridge
rule starts it and a separate function comments and approves
(``stacks/pull_request_checks/codecommit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_kms as kms
from constructs import Construct

from dataops.project import Project
from dataops.resource_names import pull_request_checks_name
from stacks.compliance import acknowledge_expected_wildcards
from stacks.pull_request_checks.codecommit import (
    CodeCommitPullRequests,
    CodeCommitPullRequestsProps,
)
from stacks.pull_request_checks.github import github_source, use_connection
from stacks.tooling.build_settings import (
    MEDIUM,
    BuildCache,
    BuildSpecFile,
    ReportGroups,
    access_logs_bucket,
    build_environment,
)
from stacks.tooling.expected_wildcards import BUILD_WILDCARDS

BUILDSPEC = "pull_request"
BUILD_TIMEOUT = cdk.Duration.minutes(30)


@dataclass(frozen=True)
class PullRequestChecksStackProps:
    project: Project


class PullRequestChecksStack(cdk.Stack):
    """``build`` (the CodeBuild project); ``codecommit`` (its triggers and reporter) when the
    source is CodeCommit, else ``None``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: PullRequestChecksStackProps,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = props.project.config
        source = config.source
        name = pull_request_checks_name(config.project)
        key = kms.Key(
            self,
            "Key",
            description=f"{name}: build artifacts and logs",
            enable_key_rotation=True,
        )
        cache = BuildCache(
            self, "BuildCache", access_logs=access_logs_bucket(self, "AccessLogs"), prefix=name
        )
        reports = ReportGroups(self, "Reports", prefix=name)
        buildspec = BuildSpecFile.load(BUILDSPEC)
        groups = reports.for_buildspec(buildspec)
        repository = (
            None
            if source.provider == "github"
            else codecommit.Repository.from_repository_name(self, "Repository", source.repository)
        )
        self.build = codebuild.Project(
            self,
            "Build",
            project_name=name,
            description=f"Checks every pull request into {source.branch}: make pull-request-check",
            source=(
                github_source(source, status_context=name)
                if repository is None
                else codebuild.Source.code_commit(repository=repository)
            ),
            build_spec=codebuild.BuildSpec.from_object(buildspec.with_report_groups(groups)),
            environment=build_environment(MEDIUM),
            cache=cache.cache,
            encryption_key=key,
            timeout=BUILD_TIMEOUT,
        )
        self.build.add_to_role_policy(ReportGroups.write_statement(groups))
        self.codecommit: CodeCommitPullRequests | None = None
        if repository is None:
            use_connection(self.build, str(source.connection_arn))
        else:
            self.codecommit = CodeCommitPullRequests(
                self,
                "CodeCommit",
                props=CodeCommitPullRequestsProps(
                    repository=repository,
                    branch=source.branch,
                    project=self.build,
                    key=key,
                    name_prefix=name,
                ),
            )
        acknowledge_expected_wildcards(self, BUILD_WILDCARDS)
