"""The data workflow of one environment: storage, catalog, Glue jobs, Step Functions, alarms."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dataops.config import EnvironmentConfig
from dataops.project import Project
from dataops.resource_names import PublishedResource, glue_database_name, parameter_name


@dataclass(frozen=True)
class DataWorkflowStackProps:
    project: Project
    environment: EnvironmentConfig


class DataWorkflowStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: DataWorkflowStackProps,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        project_name = props.project.config.project
        ssm.StringParameter(
            self,
            "GlueDatabaseParameter",
            parameter_name=parameter_name(
                project_name, props.environment.name, PublishedResource.GLUE_DATABASE
            ),
            string_value=glue_database_name(project_name, props.environment.name),
        )
