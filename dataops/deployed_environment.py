"""What the commands that talk to a deployed environment share: which one, and as whom.

``integration-test`` and ``alarm-watch`` both take ``--env`` and either ``--role-arn`` or
``--assume-integration-role`` (the role the environment's stack creates for the delivery
pipeline's post-deploy steps).
"""

from __future__ import annotations

import argparse

from dataops.config import DEFAULT_CONFIG_PATH, EnvironmentConfig
from dataops.declarations import DeclarationError
from dataops.project import Project
from dataops.resource_names import integration_test_role_name


def usage_error(key: str, problem: str, fix: str) -> DeclarationError:
    return DeclarationError([f"{DEFAULT_CONFIG_PATH}: {key}: {problem}; fix: {fix}"])


def add_role_arguments(parser: argparse.ArgumentParser) -> None:
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--role-arn", default=None, help="assume this role for every AWS call")
    role.add_argument(
        "--assume-integration-role",
        action="store_true",
        help="assume the environment's integration-test role in its account",
    )


def environment_named(project: Project, name: str) -> EnvironmentConfig:
    try:
        return project.config.environment(name)
    except KeyError as exc:
        raise usage_error("environments", exc.args[0], "pass --env with one of them") from None


def role_arn(
    args: argparse.Namespace, project: Project, environment: EnvironmentConfig
) -> str | None:
    """The role the command's AWS calls run as (``None``: the caller's credentials)."""
    from dataops.integration.clients import role_arn_for

    if args.assume_integration_role:
        name = integration_test_role_name(project.config.project, environment.name)
        return role_arn_for(environment.account, name)
    return args.role_arn
