"""The pull-request checks (placeholder until the CodeBuild project lands)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dataops.project import Project


@dataclass(frozen=True)
class PullRequestChecksStackProps:
    project: Project


class PullRequestChecksStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: PullRequestChecksStackProps,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = props.project.config.source
        ssm.StringParameter(
            self,
            "BaseBranchParameter",
            parameter_name=f"/{props.project.config.project}/tooling/pull-request-base-branch",
            string_value=source.branch,
            description="Branch pull requests are checked against (until the checks land).",
        )
