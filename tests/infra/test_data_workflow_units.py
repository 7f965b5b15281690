"""Parts of the data workflow stack that need no synthesized app: the job library zip, the
partition projection rules, the sandbox stage and a bad config failing the synth on one line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from dataops.contracts import Contract
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT
from stacks.app_builder import BuiltApp, build_app, new_app
from stacks.data_workflow.catalog import projection_parameters
from stacks.data_workflow.job_library import build_library_zip, library_zip_bytes
from stacks.sandbox import SANDBOX_CONTEXT_KEY, add_sandbox_stage

LIBRARY = PROJECT_ROOT / "glue_scripts" / "vpcflow_jobs"


def test_job_library_zip_has_the_package_at_its_root_and_no_bytecode():
    names = zipfile.ZipFile(io.BytesIO(library_zip_bytes(LIBRARY))).namelist()
    assert "vpcflow_jobs/__init__.py" in names
    assert all(name.startswith("vpcflow_jobs/") for name in names)
    assert not [name for name in names if name.endswith(".pyc") or "__pycache__" in name]


def test_job_library_zip_is_byte_identical_for_the_same_sources(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n")
    first = build_library_zip(package)
    os.utime(package / "__init__.py", (0, 0))
    assert build_library_zip(package).read_bytes() == first.read_bytes()
    (package / "__init__.py").write_text("VALUE = 2\n")
    assert build_library_zip(package) != first


def _contract(partition_type: str) -> Contract:
    return Contract(
        name="example",
        layer="mart",
        owner="team@example.com",
        version="1.0.0",
        description="example",
        columns=[{"name": "day", "type": partition_type}, {"name": "n", "type": "int"}],
        partition_keys=["day"],
    )


def test_date_partitions_are_projected_at_their_location():
    parameters = projection_parameters(_contract("date"), "s3://bucket/example/")
    assert parameters["projection.day.type"] == "date"
    assert parameters["storage.location.template"] == "s3://bucket/example/day=${day}/"


def test_other_partition_types_are_a_one_line_declaration_error():
    with pytest.raises(DeclarationError) as raised:
        projection_parameters(_contract("string"), "s3://bucket/example/")
    (line,) = raised.value.lines
    assert line.startswith("contracts/example.yaml: partition_keys: ")
    assert "; fix: " in line


def _cdk_context() -> dict:
    return json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]


def test_a_bad_config_fails_the_synth_with_one_line(tmp_path):
    config = yaml.safe_load((PROJECT_ROOT / "config/environments.yaml").read_text())
    prod = next(env for env in config["environments"] if env["name"] == "prod")
    prod["glue"]["worker_type"] = "G.025X"
    bad = tmp_path / "environments.yaml"
    bad.write_text(yaml.safe_dump(config))
    environment = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**_cdk_context(), "config": str(bad)}),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        # The venv's Node (22), as make puts it first: an older one prints a banner on stderr.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "worker_type: G.025X" in line
    assert "; fix: " in line


@pytest.fixture(scope="module")
def sandbox_app(project, tmp_path_factory) -> BuiltApp:
    app = new_app(
        outdir=str(tmp_path_factory.mktemp("sandbox")),
        context={**_cdk_context(), SANDBOX_CONTEXT_KEY: "dev"},
    )
    return build_app(app, project)


@pytest.mark.xdist_group("synth")
def test_sandbox_stage_deploys_the_data_workflow_sized_like_its_environment(sandbox_app, project):
    assert sandbox_app.sandbox is not None
    template = Template.from_stack(sandbox_app.sandbox.data_workflow)
    dev = project.config.environment("dev")
    template.resource_count_is("AWS::Glue::Job", len(project.job_graph.names))
    template.has_resource_properties(
        "AWS::Glue::Job", {"NumberOfWorkers": dev.glue.workers, "ExecutionClass": "FLEX"}
    )


def test_an_unknown_sandbox_environment_is_a_one_line_declaration_error(project):
    app = cdk.App(context={SANDBOX_CONTEXT_KEY: "qa"})
    with pytest.raises(DeclarationError) as raised:
        add_sandbox_stage(app, project)
    (line,) = raised.value.lines
    assert "sandbox=qa" in line
    assert "; fix: " in line
