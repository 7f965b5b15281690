"""Parts of the data workflow stack that need no synthesized app: the job zips, the partition
projection rules, crawler exclusions, flow-log destinations, delivery source ARNs, the sandbox
stage and a bad config failing the synth on one line."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from dataops.cdk_context import CONTEXT_ENV, CONTEXT_OVERFLOW_ENV, cli_context
from dataops.contracts import Contract
from dataops.datasets import DataSet
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT
from jobkit.partitions import PARTITION_FLOOR
from tests.conftest import SANDBOX_ENVIRONMENT

# With the synth tests: most of these build CDK constructs, and the Spark worker never should.
pytestmark = pytest.mark.xdist_group("synth")

GLUE_SCRIPTS = PROJECT_ROOT / "glue_scripts"


def _zip_names(package: str) -> list[str]:
    from stacks.data_workflow.job_library import library_zip_bytes

    return zipfile.ZipFile(io.BytesIO(library_zip_bytes(GLUE_SCRIPTS / package))).namelist()


def test_framework_zip_has_the_package_at_its_root_and_no_bytecode():
    names = _zip_names("jobkit")
    assert "jobkit/__init__.py" in names
    assert "jobkit/runner.py" in names
    assert all(name.startswith("jobkit/") for name in names)
    assert not [name for name in names if name.endswith(".pyc") or "__pycache__" in name]


def test_data_set_zip_holds_its_sql_models_for_importlib_resources(project):
    for dataset in project.datasets.values():
        names = _zip_names(dataset.name)
        assert f"{dataset.name}/__init__.py" in names
        for job in dataset.job_graph.jobs:
            if job.sql is not None:
                assert f"{dataset.name}/{job.sql}" in names
            if job.python is not None:
                assert f"{job.python.replace('.', '/')}.py" in names


def test_job_library_zip_is_byte_identical_for_the_same_sources(tmp_path):
    from stacks.data_workflow.job_library import build_library_zip

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


def test_date_partitions_are_projected_from_the_floor_at_their_location():
    from stacks.data_workflow.catalog import projection_parameters

    parameters = projection_parameters("demo", _contract("date"), "s3://bucket/example/")
    assert parameters["projection.day.type"] == "date"
    assert parameters["projection.day.range"] == f"{PARTITION_FLOOR.isoformat()},NOW"
    assert parameters["storage.location.template"] == "s3://bucket/example/day=${day}/"


def test_other_partition_types_are_a_one_line_declaration_error():
    from stacks.data_workflow.catalog import projection_parameters

    with pytest.raises(DeclarationError) as raised:
        projection_parameters("demo", _contract("string"), "s3://bucket/example/")
    (line,) = raised.value.lines
    assert line.startswith("contracts/demo/example.yaml: partition_keys: ")
    assert "; fix: " in line


def _with_raw(dataset: DataSet, **raw: str) -> DataSet:
    spec = dataset.spec.model_copy(update={"raw": dataset.spec.raw.model_copy(update=raw)})
    return dataclasses.replace(dataset, spec=spec)


def test_crawler_excludes_the_other_data_sets_folders_and_their_siblings(project):
    from stacks.data_workflow.crawler import crawler_exclusions

    vpcflow = project.datasets["vpcflow"]
    trail = dataclasses.replace(
        _with_raw(vpcflow, layout="{account}/CloudTrail/{region}/{yyyy}/{MM}/{dd}/"), name="trail"
    )
    elsewhere = dataclasses.replace(
        _with_raw(vpcflow, prefix="other/", layout="{account}/Other/{region}/{yyyy}/{MM}/{dd}/"),
        name="elsewhere",
    )
    datasets = {"vpcflow": vpcflow, "trail": trail, "elsewhere": elsewhere}
    assert crawler_exclusions(vpcflow, datasets) == ["*/CloudTrail/**", "*/CloudTrail-*/**"]
    assert crawler_exclusions(trail, datasets) == ["*/vpcflowlogs/**", "*/vpcflowlogs-*/**"]
    assert crawler_exclusions(vpcflow, {"vpcflow": vpcflow}) == []


def test_a_sibling_pattern_never_excludes_the_data_set_s_own_folder(project):
    from stacks.data_workflow.crawler import crawler_exclusions

    vpcflow = project.datasets["vpcflow"]
    digest = dataclasses.replace(
        _with_raw(vpcflow, layout="{account}/vpcflowlogs-digest/{region}/{yyyy}/{MM}/{dd}/"),
        name="digest",
    )
    assert crawler_exclusions(digest, {"vpcflow": vpcflow, "digest": digest}) == [
        "*/vpcflowlogs/**"
    ]


def test_flow_logs_deliver_under_the_folder_before_awslogs(project):
    from stacks.data_workflow.flow_logs import destination_folder

    vpcflow = project.datasets["vpcflow"]
    assert destination_folder(vpcflow) == ""
    assert destination_folder(_with_raw(vpcflow, prefix="flowlogs/AWSLogs/")) == "flowlogs/"
    for prefix in ("flowlogs/", "AWSLogs/AWSLogs/"):
        with pytest.raises(DeclarationError) as raised:
            destination_folder(_with_raw(vpcflow, prefix=prefix))
        (line,) = raised.value.lines
        assert "raw.prefix" in line
        assert "; fix: " in line


def test_source_arns_expand_accounts_and_names(project):
    from stacks.data_workflow.landing_zone import source_arns

    delivery = project.datasets["vpcflow"].spec.delivery
    assert delivery is not None
    trail = delivery.model_copy(
        update={"source_arn": "arn:{partition}:cloudtrail:*:{account}:trail/{name}"}
    )
    arns = source_arns(trail, ("111111111111", "222222222222"), ("org",))
    assert [arn.split(":cloudtrail:")[1] for arn in arns] == [
        "*:111111111111:trail/org",
        "*:222222222222:trail/org",
    ]
    assert [a.split(":cloudtrail:")[1] for a in source_arns(trail, ("1" * 12,), ())] == [
        f"*:{'1' * 12}:trail/*"
    ]


def test_an_undocumented_delivery_service_is_a_one_line_declaration_error(project):
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from stacks.data_workflow.landing_zone import DeliveryAccessProps, allow_delivery

    vpcflow = project.datasets["vpcflow"]
    assert vpcflow.spec.delivery is not None
    delivery = vpcflow.spec.delivery.model_copy(update={"service": "example.amazonaws.com"})
    stack = cdk.Stack(cdk.App(), "Undocumented")
    with pytest.raises(DeclarationError) as raised:
        allow_delivery(
            DeliveryAccessProps(
                dataset=vpcflow,
                delivery=delivery,
                source_accounts=("111111111111",),
                source_names=(),
                raw_bucket=s3.Bucket(stack, "Raw"),
                data_key=kms.Key(stack, "Key"),
            )
        )
    (line,) = raised.value.lines
    assert line.startswith("glue_scripts/vpcflow/dataset.yaml: delivery.service: ")
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
    assert not (tmp_path / "cdk.out").exists()


def test_the_app_reads_the_cli_context_from_the_environment_and_its_overflow_file(tmp_path):
    overflow = tmp_path / "context-overflow.json"
    overflow.write_text(json.dumps({"config": "config/other.yaml"}))
    environ = {CONTEXT_ENV: json.dumps({"sandbox": "dev"}), CONTEXT_OVERFLOW_ENV: str(overflow)}
    assert cli_context(environ) == {"sandbox": "dev", "config": "config/other.yaml"}
    assert cli_context({CONTEXT_ENV: '{"config": "x.yaml"}'}) == {"config": "x.yaml"}
    assert cli_context({}) == {}


def test_sandbox_stage_deploys_the_data_workflow_sized_like_its_environment(variant_app, project):
    from aws_cdk.assertions import Template

    assert variant_app.sandbox is not None
    template = Template.from_stack(variant_app.sandbox.data_workflow)
    dev = project.config.environment(SANDBOX_ENVIRONMENT)
    template.resource_count_is(
        "AWS::Glue::Job",
        sum(len(dataset.job_graph.names) for dataset in project.datasets.values()),
    )
    template.has_resource_properties(
        "AWS::Glue::Job", {"NumberOfWorkers": dev.glue.workers, "ExecutionClass": "FLEX"}
    )


def test_an_unknown_sandbox_environment_is_a_one_line_declaration_error(project):
    import aws_cdk as cdk

    from stacks.sandbox import SANDBOX_CONTEXT_KEY, add_sandbox_stage

    app = cdk.App(context={SANDBOX_CONTEXT_KEY: "qa"})
    with pytest.raises(DeclarationError) as raised:
        add_sandbox_stage(app, project)
    (line,) = raised.value.lines
    assert "sandbox=qa" in line
    assert "; fix: " in line
