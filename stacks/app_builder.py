"""Builds every stack of the app from the loaded declarations (shared by app.py and tests)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from dataops.project import Project
from stacks.compliance import apply_compliance_checks
from stacks.delivery_pipeline_stack import DeliveryPipelineStack, DeliveryPipelineStackProps
from stacks.environment_stage import EnvironmentStage
from stacks.pull_request_checks_stack import PullRequestChecksStack
from stacks.sandbox import add_sandbox_stage


@dataclass
class BuiltApp:
    """Handles on what :func:`build_app` created, for tests and diagrams."""

    app: cdk.App
    delivery_pipeline: DeliveryPipelineStack
    pull_request_checks: PullRequestChecksStack
    stages: dict[str, EnvironmentStage]
    sandbox: EnvironmentStage | None


def build_app(app: cdk.App, project: Project) -> BuiltApp:
    """The delivery pipeline (with the tooling stage, holding the pull-request checks, and every
    environment's stage), and a sandbox stage when ``-c sandbox=<environment>`` is given."""
    config = project.config
    tooling = cdk.Environment(account=config.tooling.account, region=config.tooling.region)
    delivery_pipeline = DeliveryPipelineStack(
        app,
        "DeliveryPipeline",
        props=DeliveryPipelineStackProps(project=project),
        env=tooling,
        stack_name=f"{config.project}-delivery-pipeline",
    )
    sandbox = add_sandbox_stage(app, project)
    apply_compliance_checks(app)
    return BuiltApp(
        app=app,
        delivery_pipeline=delivery_pipeline,
        pull_request_checks=delivery_pipeline.tooling.pull_request_checks,
        stages=delivery_pipeline.stages,
        sandbox=sandbox,
    )
