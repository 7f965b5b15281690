"""The pull-request checks: a CodeBuild project that runs ``make pull-request-check`` on every
pull request into the configured branch, with the result reported on the pull request.

The delivery pipeline deploys this stack into its own (tooling) account, in its ``Tooling``
stage, so a merged change to the checks takes effect like any other change. The build runs the
pull request's own code: its role may read the source and write its logs, test reports, report
artifacts and cache, nothing else (no deploy, no data, no approval). Each build keeps its data
diff report among its artifacts (a bucket of this stack, one folder a build). GitHub: a webhook
starts it, CodeBuild sets the commit status and, with a token secret configured, the build
comments its report (``stacks/pull_request_checks/github.py``). CodeCommit: an EventBridge rule
starts it and a separate function comments (with the report) and approves
(``stacks/pull_request_checks/codecommit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops.project import Project
from dataops.resource_names import pull_request_checks_name
from stacks.compliance import acknowledge_expected_wildcards
from stacks.pull_request_checks.codecommit import (
    CodeCommitPullRequests,
    CodeCommitPullRequestsProps,
)
from stacks.pull_request_checks.github import github_source, github_token, use_connection
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
# Each build's artifacts (the data diff report) land unzipped in <build id>/<this name>/.
REPORT_ARTIFACT = "report"
# A pull request's reports are read while it is reviewed; older ones are not needed.
REPORT_DAYS = 30


@dataclass(frozen=True)
class PullRequestChecksStackProps:
    project: Project


class PullRequestChecksStack(cdk.Stack):
    """``build`` (the CodeBuild project), ``check_reports`` (its artifacts bucket);
    ``codecommit`` (its triggers and reporter) when the source is CodeCommit, else ``None``."""

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
        access_logs = access_logs_bucket(self, "AccessLogs")
        cache = BuildCache(self, "BuildCache", access_logs=access_logs, prefix=name)
        self.check_reports = s3.Bucket(
            self,
            "CheckReports",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{name}-reports/",
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(REPORT_DAYS))],
            removal_policy=cdk.RemovalPolicy.DESTROY,
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
            artifacts=codebuild.Artifacts.s3(
                bucket=self.check_reports,
                name=REPORT_ARTIFACT,
                include_build_id=True,
                package_zip=False,
            ),
            environment=build_environment(MEDIUM),
            environment_variables=github_token(source),
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
                    reports=self.check_reports,
                ),
            )
        acknowledge_expected_wildcards(self, BUILD_WILDCARDS)
