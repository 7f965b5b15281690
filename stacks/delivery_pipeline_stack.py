"""The delivery pipeline (placeholder: holds the environment stages until the pipeline lands)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dataops.project import Project
from stacks.environment_stage import EnvironmentStage, EnvironmentStageProps


@dataclass(frozen=True)
class DeliveryPipelineStackProps:
    project: Project


class DeliveryPipelineStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: DeliveryPipelineStackProps,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.stages: dict[str, EnvironmentStage] = {}
        for environment in props.project.config.environments:
            self.stages[environment.name] = EnvironmentStage(
                self,
                environment.name.capitalize(),
                props=EnvironmentStageProps(project=props.project, environment=environment),
                env=cdk.Environment(account=environment.account, region=environment.region),
            )
        source = props.project.config.source
        ssm.StringParameter(
            self,
            "SourceParameter",
            parameter_name=f"/{props.project.config.project}/tooling/source",
            string_value=f"{source.provider}:{source.repository}@{source.branch}",
            description="What the delivery pipeline deploys from (until the pipeline lands).",
        )
