"""What the delivery pipeline deploys into its own (tooling) account: the pull-request checks."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from dataops.project import Project
from dataops.resource_names import pull_request_checks_name
from stacks.pull_request_checks_stack import PullRequestChecksStack, PullRequestChecksStackProps


@dataclass(frozen=True)
class ToolingStageProps:
    project: Project


class ToolingStage(cdk.Stage):
    """``pull_request_checks``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: ToolingStageProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.pull_request_checks = PullRequestChecksStack(
            self,
            "PullRequestChecks",
            props=PullRequestChecksStackProps(project=props.project),
            stack_name=pull_request_checks_name(props.project.config.project),
        )
