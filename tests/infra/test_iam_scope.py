"""No IAM policy of the app grants ``*`` actions or S3/Glue data actions on every resource, and
each Glue job's role reaches only what the job graph says the job reads and writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dataops.job_graph import RAW_SOURCE
from tests.infra.cfn import rendered

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

pytestmark = pytest.mark.xdist_group("synth")

DATA_SERVICES = ("s3:", "glue:")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Allow statements of every identity policy: IAM policies, managed policies and roles'
    inline policies."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(properties["PolicyDocument"])
        if resource["Type"] in {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"}:
            documents.extend(p["PolicyDocument"] for p in properties.get("Policies", []))
        for document in documents:
            for statement in _as_list(document["Statement"]):
                if statement.get("Effect") == "Allow":
                    yield logical_id, statement


def _all_templates(assembly_dir: Path) -> list[Path]:
    return sorted(assembly_dir.rglob("*.template.json"))


def test_no_policy_grants_every_action_or_data_actions_on_every_resource(assembly_dir):
    templates = _all_templates(assembly_dir)
    assert templates
    offending = []
    for path in templates:
        for logical_id, statement in _identity_statements(json.loads(path.read_text())):
            actions = _as_list(statement.get("Action", []))
            resources = _as_list(statement.get("Resource", []))
            if "*" in actions:
                offending.append(f"{path.name} {logical_id}: Action '*'")
            if "*" in resources:
                data = [a for a in actions if a.lower().startswith(DATA_SERVICES)]
                if data:
                    offending.append(f"{path.name} {logical_id}: {data} on '*'")
    assert offending == []


def _role_statements(template: Template, role_path_part: str) -> list[dict[str, Any]]:
    """Statements of the default policy attached to the role whose id contains the part."""
    policies = template.find_resources("AWS::IAM::Policy")
    statements = []
    for logical_id, policy in policies.items():
        if role_path_part in logical_id:
            statements.extend(_as_list(policy["Properties"]["PolicyDocument"]["Statement"]))
    assert statements, role_path_part
    return statements


def _granted(statements: list[dict[str, Any]], action: str) -> str:
    return json.dumps(
        [s["Resource"] for s in statements if action in _as_list(s["Action"])], sort_keys=True
    )


@pytest.fixture(scope="module")
def dev(built_app) -> Template:
    from aws_cdk.assertions import Template

    return Template.from_stack(built_app.stages["dev"].data_workflow)


def _job_role(dataset: str, job: str) -> str:
    from stacks.data_workflow.names import pascal

    return f"DataSet{pascal(dataset)}Jobs{pascal(job)}Role"


def test_each_job_role_reads_and_writes_exactly_its_declared_tables(dev, project):
    tables = sorted(project.contracts)
    for dataset in project.datasets.values():
        for job in dataset.job_graph.jobs:
            statements = _role_statements(dev, _job_role(dataset.name, job.name))
            readable = _granted(statements, "s3:GetObject")
            writable = _granted(statements, "s3:PutObject")
            for table in tables:
                where = (dataset.name, job.name, table)
                assert (f"/{table}/*" in writable) == (table in job.outputs), where
                assert (f"/{table}/*" in readable) == (table in [*job.reads, *job.outputs]), where
            assert ("StorageRawLanding" in readable) == (RAW_SOURCE in job.reads)
            assert "StorageRawLanding" not in writable
            for other in project.datasets:
                assert (f"/_state/{other}/*" in writable) == (other == dataset.name)
            assert f"/glue-temp/{dataset.name}/{job.name}/*" in writable
            assert f"/spark-ui/{dataset.name}/{job.name}/*" in writable
            # The jobs read and write files by location; the catalog is the crawler's and
            # Athena's.
            assert not [
                a for s in statements for a in _as_list(s["Action"]) if a.startswith("glue:")
            ]


def test_listing_is_limited_to_the_prefixes_of_the_job(dev, project):
    for dataset in project.datasets.values():
        for job in dataset.job_graph.jobs:
            statements = _role_statements(dev, _job_role(dataset.name, job.name))
            listings = [s for s in statements if "s3:ListBucket" in _as_list(s["Action"])]
            assert listings
            for statement in listings:
                if RAW_SOURCE in job.reads and "StorageRawLanding" in json.dumps(statement):
                    continue  # a run may be told to read any prefix of the raw bucket
                assert "s3:prefix" in statement["Condition"]["StringLike"]


def test_the_integration_test_role_deletes_only_test_data_and_never_run_records(dev):
    statements = _role_statements(dev, "IntegrationTestAccessRole")
    deletable = json.loads(_granted(statements, "s3:DeleteObject"))
    state = sorted(
        rendered(resource).split(">", 1)[1]
        for resources in deletable
        for resource in _as_list(resources)
        if "_state" in rendered(resource)
    )
    assert state == [
        "/_state/*/queues/*",
        "/_state/*/raw/*",
        "/_state/*/work/*/integration-*",
    ]
    assert "/runs/" not in json.dumps(deletable)


def test_bucket_level_reads_are_never_conditioned_on_a_prefix(dev):
    """``s3:GetBucketLocation`` and ``s3:ListBucketMultipartUploads`` never carry ``s3:prefix``:
    under that condition AWS would never grant them."""
    for role in (
        "DataSetVpcflowJobsStagingRole",
        "DataSetVpcflowJobsMartRole",
        "DataSetVpcflowRawCrawlerRole",
        "DataSetVpcflowWorkflowStateMachine",
    ):
        statements = _role_statements(dev, role)
        bucket_reads = [s for s in statements if "s3:GetBucketLocation" in _as_list(s["Action"])]
        assert bucket_reads, role
        for statement in bucket_reads:
            assert "s3:ListBucketMultipartUploads" in _as_list(statement["Action"])
            assert "s3:prefix" not in json.dumps(statement.get("Condition", {})), role
