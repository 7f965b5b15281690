"""``integration-test``: prove a deployed environment works, after the delivery pipeline deploys.

Exit 0 when every check passed, 1 when one failed, 2 for a usage or configuration error.
The checks live in :mod:`dataops.integration`; this module only reads the arguments.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.config import EnvironmentConfig
from dataops.declarations import DeclarationError
from dataops.deployed_environment import (
    add_role_arguments,
    environment_named,
    on_aws,
    role_arn,
    usage_error,
)
from dataops.project import PROJECT_ROOT, load_project

CHECKS: tuple[str, ...] = get_args(EnvironmentConfig.model_fields["post_deploy_check"].annotation)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment name from the config")
    parser.add_argument(
        "--check",
        choices=CHECKS,
        default=None,
        help="which checks (default: the environment's post_deploy_check)",
    )
    parser.add_argument(
        "--data-tests",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run data_tests/ on Athena (default: only for integration-with-data-tests)",
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=3600.0,
        help="longest wait for the data workflow (default: %(default)s)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=15.0,
        help="between workflow status polls (default: %(default)s)",
    )
    parser.add_argument(
        "--query-timeout-seconds",
        type=float,
        default=600.0,
        help="longest wait for one Athena query (default: %(default)s)",
    )
    parser.add_argument(
        "--query-poll-seconds",
        type=float,
        default=2.0,
        help="between Athena status polls (default: %(default)s)",
    )
    add_role_arguments(parser)
    parser.add_argument("--junit-xml", type=Path, default=None, help="write a JUnit XML report")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def _check(environment: EnvironmentConfig, requested: str | None) -> str:
    """The configured check; a smoke-only environment is never seeded, whatever is asked."""
    check = requested or environment.post_deploy_check
    if environment.post_deploy_check == "smoke" and check != "smoke":
        raise usage_error(
            f"environments[{environment.name}].post_deploy_check",
            f"'{environment.name}' is smoke-only and never gets test data, not '{check}'",
            "run with --check smoke (or change the environment's post_deploy_check)",
        )
    return check


def _main(args: argparse.Namespace) -> int:
    from dataops.integration.clients import build_clients
    from dataops.integration.pacing import Pacing
    from dataops.integration.report import passed, results_table, write_junit
    from dataops.integration.runner import WITH_DATA_TESTS, RunSettings, new_run_id, run_checks
    from dataops.integration.workflow import WaitLimits

    for option in (
        "timeout_seconds",
        "poll_seconds",
        "query_timeout_seconds",
        "query_poll_seconds",
    ):
        if getattr(args, option) < 0:
            raise DeclarationError(
                [f"--{option.replace('_', '-')}: must not be negative; fix: pass 0 or more"]
            )
    project = load_project(args.root)
    environment = environment_named(project, args.env)
    check = _check(environment, args.check)
    settings = RunSettings(
        environment=environment,
        check=check,
        data_tests=args.data_tests if args.data_tests is not None else check == WITH_DATA_TESTS,
        workflow=WaitLimits(args.timeout_seconds, args.poll_seconds),
        queries=WaitLimits(args.query_timeout_seconds, args.query_poll_seconds),
    )
    print(
        f"integration-test: {check} of '{environment.name}' ({environment.account}, "
        f"{environment.region})",
        flush=True,
    )
    clients = build_clients(environment.region, role_arn(args, project, environment))
    results = run_checks(clients, project, settings, Pacing(), new_run_id())
    print(results_table(results))
    if args.junit_xml:
        write_junit(args.junit_xml, f"integration-test.{environment.name}", results)
    return EXIT_OK if passed(results) else EXIT_CHECK_FAILED


def main(args: argparse.Namespace) -> int:
    return on_aws(lambda: _main(args))
