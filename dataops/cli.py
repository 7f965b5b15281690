"""``python -m dataops``: one entry point for every tool CodeBuild and developers run.

Each command lives in its own module exposing ``add_arguments(parser)`` and
``main(args) -> int``; it is imported only when chosen, so ``--help`` stays fast and a
command never pays for another's imports (pyspark, boto3, jsii).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from dataops.declarations import DeclarationError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class CommandSpec:
    name: str
    module: str
    help: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "validate-config",
        "dataops.commands.validate_config",
        "validate config, contracts and the job graph; print a summary",
    ),
    CommandSpec(
        "new-dataset",
        "dataops.scaffold",
        "scaffold a data set (parser, contracts, SQL model, data tests) that passes make test",
    ),
    CommandSpec(
        "sample-data",
        "dataops.samples",
        "generate realistic raw objects of every data set in the S3 layout (same seed, same bytes)",
    ),
    CommandSpec(
        "run-local",
        "dataops.local_runner",
        "run the whole data workflow locally on raw files; check contracts and data tests",
    ),
    CommandSpec(
        "spark-class-archive",
        "dataops.spark_class_archive",
        "build the local Spark driver's class-data sharing archive (make unit and demo run it)",
    ),
    CommandSpec(
        "lint-data-tests",
        "dataops.data_tests",
        "parse every SQL data test (Trino dialect) and its local transpilation",
    ),
    CommandSpec(
        "check-contracts",
        "dataops.contract_changes",
        "compare contracts/ with a git ref; fail on breaking changes without a major bump",
    ),
    CommandSpec(
        "pull-request-base",
        "dataops.pull_request_base",
        "the commit a pull request merges into (CodeCommit, GitHub or origin/<branch>)",
    ),
    CommandSpec(
        "impact",
        "dataops.impact",
        "the jobs, tables and data tests a change can affect (lineage from the declarations)",
    ),
    CommandSpec(
        "data-diff",
        "dataops.data_diff.command",
        "run the data workflow at a base commit and here on the same sample; compare the tables",
    ),
    CommandSpec(
        "pull-request-report",
        "dataops.pull_request_report",
        "after a pull-request check: keep its report for the build; comment it on GitHub",
    ),
    CommandSpec(
        "check-pii",
        "dataops.pii_gate",
        "fail when a PII column reaches a mart without masking or an exposure approval",
    ),
    CommandSpec(
        "integration-test",
        "dataops.integration_test",
        "prove a deployed environment works: seed data, run the workflow, run data tests",
    ),
    CommandSpec(
        "replay",
        "dataops.commands.replay",
        "reprocess the raw objects delivered on a range of dates, in a deployed environment",
    ),
    CommandSpec(
        "run-job",
        "dataops.commands.run_job",
        "run one job of a data set's deployed workflow by hand and wait for it",
    ),
    CommandSpec(
        "status",
        "dataops.commands.status",
        "a deployed environment's last executions, run counts, newest raw object and partitions",
    ),
    CommandSpec(
        "rehearse",
        "dataops.rehearsal.command",
        "run every environment's data workflows in moto: each scenario, then integration-test",
    ),
    CommandSpec(
        "alarm-watch",
        "dataops.alarm_watch",
        "after a deploy, fail when one of the environment's alarms fires within its watch time",
    ),
    CommandSpec(
        "bootstrap-args",
        "dataops.bootstrap_args",
        "the cdk bootstrap arguments of the tooling account or an environment's account",
    ),
    CommandSpec(
        "flow-log-format",
        "dataops.flow_log_format",
        "the log format (${field} ...) a VPC flow log must deliver for a flow-log data set",
    ),
    CommandSpec(
        "diagrams",
        "dataops.diagrams",
        "write Mermaid diagrams of the delivery pipeline and the data workflow to docs/",
    ),
)


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dataops",
        description="Tools for the VPC flow-log data workflow and its delivery pipeline.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for spec in COMMANDS:
        commands.add_parser(spec.name, help=spec.help, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    specs = {spec.name: spec for spec in COMMANDS}
    if not argv or argv[0] not in specs:
        parser = _top_parser()
        if not argv or argv[0] in {"-h", "--help"}:
            parser.print_help()
            return EXIT_OK if argv else EXIT_USAGE
        parser.error(f"unknown command '{argv[0]}'")
    spec = specs[argv[0]]
    module = importlib.import_module(spec.module)
    parser = argparse.ArgumentParser(prog=f"python -m dataops {spec.name}", description=spec.help)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.main(args))
    except DeclarationError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
