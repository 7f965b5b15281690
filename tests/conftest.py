"""Session-wide fixtures: the declarations, one synthesized app and one SparkSession per worker.

Tests that synthesize are grouped on one xdist worker (``xdist_group("synth")``) and Spark tests
on another (``xdist_group("spark")``), so each expensive thing is built once per run.

Tests of one data set carry ``pytest.mark.dataset("<name>")``. Given ``--impact=FILE`` (what
``python -m dataops impact --json`` wrote), they run only when the change impacts their data
set, shared code or test support changed, or the test itself changed; every other test runs.
(Written with ``=``: pytest reads the command line for its test paths before this file adds
the option, and would take a separate FILE for one.)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dataops.impact import read_impact
from dataops.project import PROJECT_ROOT, Project, load_project

if TYPE_CHECKING:
    from stacks.app_builder import BuiltApp
    from tests.local_runs import FlowRun


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impact",
        type=Path,
        default=None,
        help="impact JSON (python -m dataops impact --json): skip the tests of data sets the "
        "change does not impact",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests of data sets the change cannot affect (the slim pull-request check)."""
    path = config.getoption("impact")
    if path is None:
        return
    impact = read_impact(path)
    kept, skipped = [], []
    for item in items:
        marker = item.get_closest_marker("dataset")
        test_file = item.path.relative_to(PROJECT_ROOT).as_posix()
        runs = marker is None or impact.runs_tests_of(marker.args[0], test_file)
        (kept if runs else skipped).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project(PROJECT_ROOT)


def synthesized(project: Project, outdir: Path, context: dict[str, str] | None = None) -> BuiltApp:
    """The whole app built from ``project`` and synthesized with cdk.json's context (feature
    flags) and ``context``, as ``cdk synth -c`` has it. CDK is imported here, not by the module,
    so the Spark worker never starts a jsii runtime."""
    from stacks.app_builder import build_app, new_app

    flags = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    built = build_app(new_app(outdir=str(outdir), context={**flags, **(context or {})}), project)
    built.app.synth()
    return built


# Files through which the worker that synthesizes tells the others where its assembly is.
SYNTHESIZING, SYNTHESIZED = "assembly-synthesizing", "assembly-synthesized"
ASSEMBLY_WAIT_SECONDS = 300


def _run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every worker of this run shares (xdist gives each a subdirectory)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def built_app(project: Project, tmp_path_factory: pytest.TempPathFactory) -> BuiltApp:
    """The whole app, synthesized once per worker; tests read templates from it. Workers that
    do not synthesize can find its assembly (``shared_assembly_dir``)."""
    shared = _run_directory(tmp_path_factory)
    (shared / SYNTHESIZING).touch()
    try:
        built = synthesized(project, tmp_path_factory.mktemp("cdk.out"))
    finally:
        (shared / SYNTHESIZING).unlink(missing_ok=True)
    partial = shared / f"{SYNTHESIZED}.{os.getpid()}"
    partial.write_text(built.app.outdir, encoding="utf-8")
    partial.replace(shared / SYNTHESIZED)
    return built


GITHUB_CONNECTION_ARN = (
    "arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd1234-ab12-cd34-ef56-abcdef123456"
)


SANDBOX_ENVIRONMENT = "dev"


@pytest.fixture(scope="session")
def variant_app(tmp_path_factory: pytest.TempPathFactory) -> BuiltApp:
    """The app once more with what the main build leaves out, for the tests of those variants:
    a GitHub source (config/environments.yaml's otherwise) and a sandbox stage
    (``-c sandbox=dev``). One build serves both: the source reaches only the tooling, the
    sandbox only its own stage."""
    import yaml

    from stacks.sandbox import SANDBOX_CONTEXT_KEY

    work = tmp_path_factory.mktemp("variant")
    config = yaml.safe_load((PROJECT_ROOT / "config/environments.yaml").read_text())
    config["source"] = {
        "provider": "github",
        "owner": "acme",
        "repository": "flowlogs-dataops",
        "branch": "main",
        "connection_arn": GITHUB_CONNECTION_ARN,
    }
    (work / "environments.yaml").write_text(yaml.safe_dump(config))
    return synthesized(
        load_project(PROJECT_ROOT, work / "environments.yaml"),
        work / "cdk.out",
        {SANDBOX_CONTEXT_KEY: SANDBOX_ENVIRONMENT},
    )


@pytest.fixture(scope="session")
def assembly_dir(built_app: BuiltApp) -> Path:
    return Path(built_app.app.outdir)


@pytest.fixture(scope="session")
def shared_assembly_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The app's cloud assembly for a worker that should not synthesize (the Spark worker):
    the one another worker's ``built_app`` wrote or is writing; synthesized here only when no
    worker has started to."""
    shared = _run_directory(tmp_path_factory)
    deadline = time.monotonic() + ASSEMBLY_WAIT_SECONDS
    while (shared / SYNTHESIZING).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    if (shared / SYNTHESIZED).exists():
        return Path((shared / SYNTHESIZED).read_text(encoding="utf-8"))
    return request.getfixturevalue("assembly_dir")


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The local session run-local uses for a small batch, with a smaller heap and Spark's
    interpreted expressions instead of generated code: the tests' batches are a few thousand
    lines, so compiling Java for every query costs more than it saves, and on the pull-request
    box this JVM shares 3 GB with the synth worker (512 MB is near Spark's minimum of 450 MB).
    For the same reason the optimizer infers no constraints (it only prunes filters with them,
    at a cost that grows with the wide check expressions) and a file scan is one task: the
    tests' objects are a few kilobytes, and each task costs more than it reads."""
    from dataops.local_driver import local_session
    from jobkit.session import INTERPRETED_EXPRESSIONS, SMALL_BATCH_JVM_OPTIONS

    session = local_session(
        settings={
            "spark.driver.memory": "512m",
            **INTERPRETED_EXPRESSIONS,
            "spark.sql.constraintPropagation.enabled": "false",
            "spark.sql.files.maxPartitionNum": "1",
        },
        jit=SMALL_BATCH_JVM_OPTIONS,
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def flow_run(spark, project: Project, tmp_path_factory: pytest.TempPathFactory) -> FlowRun:
    """One clean run of the flow-log jobs (:func:`tests.local_runs.run_flow_jobs`), which the
    rerun and replay tests start from instead of each running its own."""
    from tests.local_runs import run_flow_jobs

    return run_flow_jobs(spark, project, tmp_path_factory.mktemp("flow-run"))
