"""A developer's direct deploy of one environment's stage into a sandbox account."""

from __future__ import annotations

import os

import aws_cdk as cdk

from dataops.declarations import DeclarationError
from dataops.project import Project
from stacks.environment_stage import EnvironmentStage, EnvironmentStageProps

SANDBOX_CONTEXT_KEY = "sandbox"
SANDBOX_STAGE_ID = "Sandbox"


def add_sandbox_stage(app: cdk.App, project: Project) -> EnvironmentStage | None:
    """With ``-c sandbox=<env>``, add stage ``Sandbox`` sized like ``<env>`` in the CLI's account.

    ``cdk deploy -c sandbox=dev 'Sandbox/*'`` then deploys the data workflow straight into the
    account and region of the current AWS credentials, without the delivery pipeline.
    """
    name = app.node.try_get_context(SANDBOX_CONTEXT_KEY)
    if not name:
        return None
    try:
        environment = project.config.environment(name)
    except KeyError as exc:
        raise DeclarationError(
            [f"-c {SANDBOX_CONTEXT_KEY}={name}: {exc.args[0]}; fix: name one of them"]
        ) from None
    account = os.environ.get("CDK_DEFAULT_ACCOUNT", environment.account)
    region = os.environ.get("CDK_DEFAULT_REGION", environment.region)
    return EnvironmentStage(
        app,
        SANDBOX_STAGE_ID,
        props=EnvironmentStageProps(project=project, environment=environment),
        env=cdk.Environment(account=account, region=region),
    )
