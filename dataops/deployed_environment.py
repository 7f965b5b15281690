"""What the commands that talk to a deployed environment share: which one, as whom, and how.

``integration-test``, ``alarm-watch``, ``replay``, ``run-job`` and ``status`` all take ``--env``
and either ``--role-arn`` or ``--assume-integration-role`` (the role the environment's stack
creates for the delivery pipeline's post-deploy steps). The day-two commands also take
``--dataset``, find the environment's resources through :mod:`dataops.integration.resources`,
and end on an AWS error with one line and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dataops.cli import EXIT_CHECK_FAILED
from dataops.config import DEFAULT_CONFIG_PATH, EnvironmentConfig
from dataops.datasets import DataSet
from dataops.declarations import DeclarationError
from dataops.project import Project
from dataops.resource_names import integration_test_role_name

if TYPE_CHECKING:
    from dataops.integration.clients import Clients
    from dataops.integration.resources import Resources
    from dataops.integration.workflow import WaitLimits


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


def add_wait_arguments(parser: argparse.ArgumentParser, what: str, timeout: float) -> None:
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=timeout,
        help=f"longest wait for {what} (default: %(default)s)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=15.0,
        help="between status polls (default: %(default)s)",
    )


def wait_limits(args: argparse.Namespace) -> WaitLimits:
    """``--timeout-seconds`` and ``--poll-seconds``; a negative one is a usage error."""
    from dataops.integration.workflow import WaitLimits

    for option in ("timeout_seconds", "poll_seconds"):
        if getattr(args, option) < 0:
            raise DeclarationError(
                [f"--{option.replace('_', '-')}: must not be negative; fix: pass 0 or more"]
            )
    return WaitLimits(args.timeout_seconds, args.poll_seconds)


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


@dataclass(frozen=True)
class DeployedEnvironment:
    """One deployed environment as a day-two command sees it."""

    project: Project
    environment: EnvironmentConfig
    clients: Clients
    resources: Resources

    def describe(self) -> str:
        env = self.environment
        return f"'{env.name}' ({env.account}, {env.region})"


def connect(
    args: argparse.Namespace,
    project: Project,
    environment: EnvironmentConfig,
    datasets: list[DataSet],
    command: str,
) -> DeployedEnvironment:
    """Clients as ``args`` say and the names the environment's stack published for
    ``datasets``; an environment without them is a usage error (wrong --env, or not deployed)."""
    from dataops.integration.clients import build_clients
    from dataops.integration.resources import ResourcesMissing, lookup_resources

    arn = role_arn(args, project, environment)
    clients = build_clients(environment.region, arn, f"dataops-{command}")
    names = [dataset.name for dataset in datasets]
    try:
        resources = lookup_resources(clients, project.config.project, environment.name, names)
    except ResourcesMissing as exc:
        raise DeclarationError([str(exc)]) from None
    return DeployedEnvironment(project, environment, clients, resources)


def on_aws(action: Callable[[], int]) -> int:
    """``action()``; an AWS error (denied, throttled, no credentials) ends the command with one
    line on stderr and exit 1 instead of a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (ClientError, BotoCoreError) as exc:
        print(
            f"error: {exc}; fix: use credentials (or --role-arn, --assume-integration-role) "
            "that may do this in the environment's account and region",
            file=sys.stderr,
        )
        return EXIT_CHECK_FAILED
