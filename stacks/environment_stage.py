"""One environment of the data workflow as a ``cdk.Stage``.

The delivery pipeline deploys this stage into dev, staging and prod; a developer can deploy it
straight into a sandbox account. Both build it from the same props.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from dataops.config import EnvironmentConfig
from dataops.project import Project
from dataops.resource_names import stack_name
from stacks.data_workflow_stack import DataWorkflowStack, DataWorkflowStackProps


@dataclass(frozen=True)
class EnvironmentStageProps:
    project: Project
    environment: EnvironmentConfig


class EnvironmentStage(cdk.Stage):
    """The data workflow of one environment."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: EnvironmentStageProps, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = props.project.config
        self.data_workflow = DataWorkflowStack(
            self,
            "DataWorkflow",
            props=DataWorkflowStackProps(project=props.project, environment=props.environment),
            stack_name=stack_name(config.project, props.environment.name),
        )
