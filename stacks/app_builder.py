"""Builds every stack of the app from the loaded declarations (shared by app.py and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk

from dataops.project import Project
from stacks.environment_stage import EnvironmentStage, EnvironmentStageProps


@dataclass
class BuiltApp:
    """Handles on what :func:`build_app` created, for tests and diagrams."""

    app: cdk.App
    stages: dict[str, EnvironmentStage] = field(default_factory=dict)


def build_app(app: cdk.App, project: Project) -> BuiltApp:
    """Add the delivery pipeline, the pull-request checks and (on request) a sandbox stage."""
    built = BuiltApp(app=app)
    for environment in project.config.environments:
        built.stages[environment.name] = EnvironmentStage(
            app,
            environment.name.capitalize(),
            props=EnvironmentStageProps(project=project, environment=environment),
            env=cdk.Environment(account=environment.account, region=environment.region),
        )
    return built
