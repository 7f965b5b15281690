"""``bootstrap-args``: the ``cdk bootstrap`` arguments of one account, from the config.

``make bootstrap ENV=<name>`` runs ``cdk bootstrap`` with them, so no account id or region is
typed by hand: ``tooling`` is the delivery pipeline's account; every environment's account is
bootstrapped to trust it (deploys run through the roles this creates).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from dataops.cli import EXIT_OK
from dataops.config import DEFAULT_CONFIG_PATH, ProjectConfig
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT, load_project

TOOLING = "tooling"
# What CloudFormation may do in a target account when the pipeline deploys there. Narrow it
# with --execution-policy to a customer-managed policy once you know what your stacks create.
DEFAULT_EXECUTION_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help=f"'{TOOLING}' or an environment name")
    parser.add_argument(
        "--execution-policy",
        action="append",
        default=None,
        help=f"CloudFormation execution policy ARN (repeatable; default: AdministratorAccess, "
        f"{DEFAULT_EXECUTION_POLICY})",
    )
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def bootstrap_args(config: ProjectConfig, name: str, policies: list[str]) -> list[str]:
    tooling = config.tooling
    if name == TOOLING:
        return [f"aws://{tooling.account}/{tooling.region}"]
    try:
        environment = config.environment(name)
    except KeyError as exc:
        raise DeclarationError(
            [f"{DEFAULT_CONFIG_PATH}: environments: {exc.args[0]}; fix: pass --env {TOOLING} "
             "or one of them"]
        ) from None  # fmt: skip
    return [
        f"aws://{environment.account}/{environment.region}",
        "--trust",
        tooling.account,
        "--trust-for-lookup",
        tooling.account,
        "--cloudformation-execution-policies",
        ",".join(policies),
    ]


def main(args: argparse.Namespace) -> int:
    config = load_project(args.root).config
    policies = args.execution_policy or [DEFAULT_EXECUTION_POLICY]
    print(shlex.join(bootstrap_args(config, args.env, policies)))
    return EXIT_OK
