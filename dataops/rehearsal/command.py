"""``rehearse``: run environments' synthesized data workflows in moto, scenario by scenario.

Each scenario gets a freshly stood-up environment; after the last one, with its faults
disarmed, ``integration-test`` runs against what the scenario left, as the delivery pipeline
runs it after a deploy. Every environment of the config is rehearsed unless ``--env`` names
some, in one process (one synth check, one SparkSession). The scenarios act on every data set
unless ``--dataset`` names some, or ``--impact`` (the pull-request check) limits them to what a
change can affect. Exit 0 when every check passed, 1 when one failed, 2 for bad input (unknown
environment or data set, no assembly and the synth failing, an integration the rehearsal does
not emulate).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.declarations import DeclarationError
from dataops.deployed_environment import environment_named
from dataops.impact import Impact, read_impact
from dataops.integration.pacing import Pacing
from dataops.integration.report import CheckFailed, CheckResult, passed, results_table, write_junit
from dataops.integration.runner import Checks
from dataops.project import PROJECT_ROOT, Project, add_datasets_argument, load_project
from dataops.rehearsal.assembly import StackArtifact, load_stack
from dataops.rehearsal.scenarios import SCENARIOS
from dataops.resource_names import stack_name

if TYPE_CHECKING:
    from dataops.rehearsal.harness import RehearsalOptions

# Changed files here reach every data set's rehearsed workflow: the stacks synthesize it, the
# rehearsal and the integration checks drive it, the configuration sizes it.
REHEARSAL_SHARED = ("stacks/", "dataops/", "config/", "app.py", "cdk.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        action="append",
        help="environment name from the config (repeatable; default: every environment)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="run this scenario (repeatable; default: every one): "
        + "; ".join(f"{name}: {scenario.description}" for name, scenario in SCENARIOS.items()),
    )
    parser.add_argument(
        "--cdk-out",
        type=Path,
        default=None,
        help="cloud assembly (default: ROOT/cdk.out, synthesized when missing or stale)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep the S3 mirror and generated data here (default: a temporary directory)",
    )
    add_datasets_argument(parser)
    parser.add_argument(
        "--impact",
        type=Path,
        default=None,
        help="impact JSON (python -m dataops impact --json): only the data sets the change can "
        "affect; every one when it changes shared code, the stacks or the configuration",
    )
    parser.add_argument("--junit-xml", type=Path, default=None, help="write a JUnit XML report")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def impacted_datasets(impact: Impact) -> list[str] | None:
    """The data sets a change's rehearsal acts on: None for every one."""
    if impact.shared or any(path.startswith(REHEARSAL_SHARED) for path in impact.changed):
        return None
    return sorted(impact.datasets)


def rehearsed_project(project: Project, names: list[str] | None) -> Project:
    """``project`` with only the data sets ``names`` (all when None)."""
    chosen = project.select(names)
    return dataclasses.replace(project, datasets={dataset.name: dataset for dataset in chosen})


def rehearse(
    project: Project,
    environment: str,
    stack: StackArtifact,
    *,
    scenarios: Sequence[str],
    work_dir: Path,
    spark: Callable[[], object],
    options: RehearsalOptions | None = None,
    integration_test: bool = True,
) -> list[CheckResult]:
    """Every scenario in a fresh rehearsal, then (``integration_test``) ``integration-test``
    in the last one; the checks, named ``<environment>: <scenario>: <check>``."""
    # Moto's Step Functions interpreter is imported here, not by ``rehearse --help``.
    from dataops.rehearsal.harness import Rehearsal

    results: list[CheckResult] = []
    for index, name in enumerate(scenarios):
        checks = Checks(Pacing())
        checks.pacing.echo(f"rehearse: scenario {name} in '{environment}'")
        rehearsal = Rehearsal(
            project, environment, stack, work_dir=work_dir / name, spark=spark, options=options
        )
        with rehearsal:
            SCENARIOS[name].run(rehearsal, checks)
            if integration_test and index == len(scenarios) - 1:
                rehearsal.faults.clear()
                with checks.check("integration-test") as check:
                    code = rehearsal.integration_test()
                    if code != EXIT_OK:
                        raise CheckFailed(f"exit {code} against the rehearsed environment")
                    check.detail = "exit 0 against the rehearsed environment"
        results += [
            dataclasses.replace(r, name=f"{environment}: {name}: {r.name}") for r in checks.results
        ]
    return results


# The rehearsal's batches are a few hundred records: the tests' heap, not run-local's (the
# pull-request check runs the rehearsal on a 3 GB box).
DRIVER_MEMORY = "512m"


class _LocalSpark:
    """The command's SparkSession: started at the first Spark job run, stopped at the end."""

    def __init__(self) -> None:
        self.session: object | None = None

    def __call__(self) -> object:
        from dataops.local_driver import local_session
        from jobkit.session import INTERPRETED_EXPRESSIONS, SMALL_BATCH_JVM_OPTIONS

        self.session = local_session(
            "rehearsal",
            settings={"spark.driver.memory": DRIVER_MEMORY, **INTERPRETED_EXPRESSIONS},
            jit=SMALL_BATCH_JVM_OPTIONS,
        )
        return self.session

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()  # type: ignore[attr-defined]


def main(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    names = args.dataset
    if args.impact is not None:
        if names is not None:
            raise DeclarationError(["--impact: not with --dataset; fix: pass one of them"])
        names = impacted_datasets(read_impact(args.impact))
        if names == []:
            print("rehearse: the change impacts no data set; nothing to rehearse")
            return EXIT_OK
    project = rehearsed_project(project, names)
    names = args.env or [environment.name for environment in project.config.environments]
    environments = [environment_named(project, name).name for name in names]
    cdk_out = args.cdk_out or args.root / "cdk.out"
    stacks = {
        environment: load_stack(args.root, cdk_out, stack_name(project.config.project, environment))
        for environment in environments
    }
    scenarios = args.scenario or list(SCENARIOS)
    spark = _LocalSpark()
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="dataops-rehearsal-") as temporary:
        work_dir = args.work_dir or Path(temporary)
        try:
            for environment, stack in stacks.items():
                results += rehearse(
                    project,
                    environment,
                    stack,
                    scenarios=scenarios,
                    work_dir=work_dir / environment,
                    spark=spark,
                )
        finally:
            spark.stop()
    print(results_table(results))
    if args.junit_xml:
        write_junit(args.junit_xml, f"rehearse.{'.'.join(environments)}", results)
    return EXIT_OK if passed(results) else EXIT_CHECK_FAILED
