"""The generic data set workflow synthesized for two data sets in one environment: a copy of
the project with a second, hand-written data set (``trail``: a CloudTrail-like delivery, no
crawler, one job) beside ``vpcflow`` (the shipped ``cloudtrail`` data set left out). Each gets its own state machine, jobs, tables,
rulesets, alarms and SSM name; they share the environment's resources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataops.project import PROJECT_ROOT, Project, load_project
from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    dataset_parameter_name,
    glue_job_name,
    parameter_name,
    state_machine_name,
)
from tests.infra.cfn import rendered, resources, state_machines

pytestmark = pytest.mark.xdist_group("synth")

TRAIL_ACCOUNTS = ["222222222222", "555555555555"]
TRAIL_DATASET = {
    "description": "A CloudTrail-like test data set.",
    "raw": {
        "prefix": "AWSLogs/",
        "layout": "{account}/CloudTrail/{region}/{yyyy}/{MM}/{dd}/",
        "suffixes": [".json.gz"],
    },
    "delivery": {
        "service": "cloudtrail.amazonaws.com",
        "source_arn": "arn:{partition}:cloudtrail:*:{account}:trail/{name}",
    },
}
TRAIL_JOBS = {
    "jobs": [
        {
            "name": "staging",
            "python": "trail.staging",
            "description": "Trail records to Parquet.",
            "reads": ["raw"],
            "writes": ["trail_events"],
            "quarantine": "trail_quarantine",
            "incremental": "raw_objects",
        }
    ]
}
LINEAGE = [
    ("source_file", "string"),
    ("line_number", "bigint"),
    ("ingested_at", "timestamp"),
    ("ingest_batch_id", "string"),
]


def _contract(name: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "layer": "staging",
        "owner": "team@example.com",
        "version": "1.0.0",
        "description": f"{name} of the test data set.",
        "partition_keys": ["dt"],
        "grain": ["source_file", "line_number"],
        "columns": [
            {"name": column, "type": kind, "nullable": False, "pii": False}
            for column, kind in columns
        ],
    }


def _write_yaml(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(value, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def two_datasets(tmp_path_factory) -> Project:
    root = tmp_path_factory.mktemp("two-datasets")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("glue_scripts", "contracts", "data_tests", "config"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=ignore)
    for folder in ("glue_scripts", "contracts", "data_tests"):
        shutil.rmtree(root / folder / "cloudtrail")
    trail = root / "glue_scripts" / "trail"
    _write_yaml(trail / "dataset.yaml", TRAIL_DATASET)
    _write_yaml(trail / "job_graph.yaml", TRAIL_JOBS)
    (trail / "__init__.py").write_text('"""A test data set."""\n')
    (trail / "staging.py").write_text('"""Its parser (not run here)."""\n')
    _write_yaml(
        root / "contracts" / "trail" / "trail_events.yaml",
        _contract("trail_events", [("event_name", "string"), *LINEAGE, ("dt", "date")]),
    )
    quarantine = yaml.safe_load(
        (PROJECT_ROOT / "contracts/vpcflow/quarantine_vpcflowlogs.yaml").read_text()
    )
    _write_yaml(
        root / "contracts" / "trail" / "trail_quarantine.yaml",
        {**quarantine, "name": "trail_quarantine"},
    )
    config_path = root / "config" / "environments.yaml"
    config = yaml.safe_load(config_path.read_text())
    dev = next(env for env in config["environments"] if env["name"] == "dev")
    dev["raw_freshness_minutes"] = 60
    dev["datasets"] = {"trail": {"source_accounts": TRAIL_ACCOUNTS, "source_names": ["org-trail"]}}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return load_project(root)


@pytest.fixture(scope="module")
def template(two_datasets, tmp_path_factory) -> dict[str, Any]:
    """One environment's stack only (no delivery pipeline, no cdk-nag): the small extra synth."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from stacks.app_builder import new_app
    from stacks.data_workflow_stack import DataWorkflowStack, DataWorkflowStackProps

    context = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    app = new_app(outdir=str(tmp_path_factory.mktemp("two-datasets-out")), context=context)
    env = two_datasets.config.environment("dev")
    stack = DataWorkflowStack(
        app,
        "TwoDataSets",
        props=DataWorkflowStackProps(project=two_datasets, environment=env),
        env=cdk.Environment(account=env.account, region=env.region),
    )
    return Template.from_stack(stack).to_json()


def _properties(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [resource["Properties"] for resource in resources(template, kind).values()]


def test_each_data_set_gets_its_own_state_machine_and_ssm_name(template, two_datasets):
    project = two_datasets.config.project
    assert set(state_machines(template)) == {
        state_machine_name(project, "dev", name) for name in ("vpcflow", "trail")
    }
    names = {p["Name"] for p in _properties(template, "AWS::SSM::Parameter")}
    for dataset in ("vpcflow", "trail"):
        assert (
            dataset_parameter_name(project, "dev", dataset, DataSetResource.STATE_MACHINE_ARN)
            in names
        )


def test_each_data_set_gets_its_jobs_tables_and_rulesets(template, two_datasets):
    project = two_datasets.config.project
    assert {p["Name"] for p in _properties(template, "AWS::Glue::Job")} == {
        glue_job_name(project, "dev", dataset.name, job)
        for dataset in two_datasets.datasets.values()
        for job in dataset.job_graph.names
    }
    assert {p["TableInput"]["Name"] for p in _properties(template, "AWS::Glue::Table")} == set(
        two_datasets.contracts
    )
    rulesets = {
        p["TargetTable"]["TableName"]
        for p in _properties(template, "AWS::Glue::DataQualityRuleset")
    }
    assert {"trail_events", "trail_quarantine", "data_app_conn_stats"} <= rulesets
    assert len(_properties(template, "AWS::Glue::Database")) == 1
    assert len(_properties(template, "AWS::Glue::SecurityConfiguration")) == 1
    assert len(_properties(template, "AWS::SNS::Topic")) == 1


def test_trail_job_arguments_and_locations_are_its_own(template, two_datasets):
    (job,) = [
        p for p in _properties(template, "AWS::Glue::Job") if p["Name"].endswith("-trail-staging")
    ]
    arguments = {k: rendered(v) for k, v in job["DefaultArguments"].items()}
    assert arguments["--dataset"] == "trail"
    assert arguments["--raw_layout"] == TRAIL_DATASET["raw"]["layout"]
    assert arguments["--state_uri"].endswith("/_state/trail/")
    outputs = json.loads(arguments["--outputs"])
    assert "StorageQuarantine" in outputs["trail_quarantine"]
    assert "StorageCurated" in outputs["trail_events"]


def test_each_data_set_gets_its_alarms_all_published(template, two_datasets):
    project = two_datasets.config.project
    alarms = {p["AlarmName"] for p in _properties(template, "AWS::CloudWatch::Alarm")}
    kinds = {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "GlueJobRunFailures",
        "DataQualityFailures",
        "RawDataStale",
    }
    assert alarms == {
        f"{project}-dev-{dataset}-{kind}" for dataset in ("vpcflow", "trail") for kind in kinds
    }
    (published,) = [
        p
        for p in _properties(template, "AWS::SSM::Parameter")
        if p["Name"] == parameter_name(project, "dev", PublishedResource.ALARM_NAMES)
    ]
    assert set(published["Value"].split(",")) == alarms


def test_only_the_declared_crawler_excludes_the_other_data_set_s_folders(template):
    (crawler,) = _properties(template, "AWS::Glue::Crawler")
    assert crawler["Name"].endswith("-vpcflow-raw")
    (target,) = crawler["Targets"]["S3Targets"]
    assert target["Exclusions"] == ["*/CloudTrail/**", "*/CloudTrail-*/**"]


def test_cloudtrail_delivery_is_scoped_to_its_trails_and_accounts(template):
    trails = [f"arn:<AWS::Partition>:cloudtrail:*:{a}:trail/org-trail" for a in TRAIL_ACCOUNTS]
    (policy,) = [
        p
        for logical_id, p in resources(template, "AWS::S3::BucketPolicy").items()
        if logical_id.startswith("StorageRawLanding")
    ]
    statements = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
    ]
    (write,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    (check,) = [s for s in statements if s["Action"] == "s3:GetBucketAcl"]
    assert sorted(rendered(r).split(">", 1)[1] for r in write["Resource"]) == [
        f"/AWSLogs/{account}/*" for account in TRAIL_ACCOUNTS
    ]
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    for statement in (write, check):
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == TRAIL_ACCOUNTS
        assert [rendered(a) for a in statement["Condition"]["ArnLike"]["aws:SourceArn"]] == trails
    (key,) = _properties(template, "AWS::KMS::Key")
    (encrypt,) = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
        and s["Action"] == "kms:GenerateDataKey*"
    ]
    context = encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert [rendered(arn) for arn in context] == trails


def test_the_integration_test_role_reaches_every_data_set_s_state_machine(template):
    (role,) = [
        p
        for logical_id, p in resources(template, "AWS::IAM::Policy").items()
        if logical_id.startswith("IntegrationTestAccessRole")
    ]
    (run,) = [
        s
        for s in role["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "RunTheDataWorkflows"
    ]
    assert len(run["Resource"]) == 2
