"""Builds every stack of the app from the loaded declarations (shared by app.py and tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk

from dataops.project import Project
from stacks.compliance import apply_compliance_checks
from stacks.delivery_pipeline_stack import DeliveryPipelineStack, DeliveryPipelineStackProps
from stacks.environment_stage import EnvironmentStage
from stacks.pull_request_checks_stack import PullRequestChecksStack
from stacks.sandbox import add_sandbox_stage


def new_app(outdir: str | None = None, context: dict[str, Any] | None = None) -> cdk.App:
    """A CDK app without CDK's built-in CloudFormation validation: the pinned cfn-lint already
    lints every synthesized template with zero warnings allowed (``make cfn-lint``, the delivery
    pipeline's Build stage, the tests), and the built-in copy of it took a third of every synth
    (3.3 s of 10.4 s, half of it starting its WebAssembly engine)."""
    return cdk.App(outdir=outdir, context=context, builtin_cloud_formation_validation=False)


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
