"""The landing zone of each environment: delivery policies on the raw bucket and the key, flow
logs from config delivering the staging contract's fields, and the raw freshness alarm."""

from __future__ import annotations

from typing import Any

import pytest

from dataops.flow_log_format import flow_log_format
from tests.infra.cfn import rendered, resources
from vpcflow.flowlog_format import KNOWN_FIELDS

pytestmark = pytest.mark.xdist_group("synth")


@pytest.fixture(scope="module")
def templates(built_app) -> dict[str, dict[str, Any]]:
    from aws_cdk.assertions import Template

    return {
        name: Template.from_stack(stage.data_workflow).to_json()
        for name, stage in built_app.stages.items()
    }


def _raw_bucket(template: dict[str, Any]) -> str:
    """The raw bucket's ARN as :func:`rendered` writes it."""
    (logical_id,) = [
        logical_id
        for logical_id in resources(template, "AWS::S3::Bucket")
        if logical_id.startswith("StorageRawLanding")
    ]
    return f"<{logical_id}.Arn>"


def _raw_bucket_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for logical_id, p in resources(template, "AWS::S3::BucketPolicy").items()
        if logical_id.startswith("StorageRawLanding")
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (key,) = resources(template, "AWS::KMS::Key").values()
    return key["Properties"]["KeyPolicy"]["Statement"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_delivery_service_writes_only_its_accounts_keys_with_the_owner_acl(templates, project):
    from stacks.data_workflow.landing_zone import DELIVERY_SERVICES

    for env in project.config.environments:
        statements = _raw_bucket_statements(templates[env.name])
        bucket = _raw_bucket(templates[env.name])
        for dataset in project.datasets.values():
            delivery = dataset.spec.delivery
            assert delivery is not None
            accounts = env.source_accounts(dataset.name)
            names = env.dataset_settings(dataset.name).source_names or ["*"]
            sources = [
                delivery.source_arn.format(partition="<AWS::Partition>", account=account, name=name)
                for account in accounts
                for name in names
            ]
            mine = [s for s in statements if s.get("Principal") == {"Service": delivery.service}]
            (write,) = [s for s in mine if s["Action"] == "s3:PutObject"]
            assert sorted(rendered(r) for r in _as_list(write["Resource"])) == sorted(
                f"{bucket}/{dataset.spec.raw.prefix}{account}/*" for account in accounts
            )
            assert write["Condition"]["StringEquals"] == {
                "aws:SourceAccount": accounts,
                "s3:x-amz-acl": "bucket-owner-full-control",
            }
            (check,) = [s for s in mine if s["Action"] != "s3:PutObject"]
            assert set(_as_list(check["Action"])) == set(
                DELIVERY_SERVICES[delivery.service].bucket_checks
            )
            assert rendered(check["Resource"]) == bucket
            for statement in (write, check):
                assert statement["Effect"] == "Allow"
                assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == accounts
                assert [
                    rendered(arn) for arn in statement["Condition"]["ArnLike"]["aws:SourceArn"]
                ] == sources


def test_nothing_in_the_raw_bucket_policy_refuses_an_owner_acl_delivery(templates):
    """The only deny is for requests without TLS; ACLs are disabled, which accepts exactly
    ``bucket-owner-full-control``."""
    for template in templates.values():
        denies = [s for s in _raw_bucket_statements(template) if s["Effect"] == "Deny"]
        assert [s["Condition"] for s in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]
        (raw,) = [
            b
            for logical_id, b in resources(template, "AWS::S3::Bucket").items()
            if logical_id.startswith("StorageRawLanding")
        ]
        assert raw["Properties"]["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}
        ]


def test_the_key_lets_the_delivery_service_encrypt_under_the_same_conditions(templates, project):
    from stacks.data_workflow.landing_zone import DELIVERY_SERVICES

    for env in project.config.environments:
        statements = _key_statements(templates[env.name])
        for dataset in project.datasets.values():
            delivery = dataset.spec.delivery
            assert delivery is not None
            permissions = DELIVERY_SERVICES[delivery.service]
            mine = [s for s in statements if s.get("Principal") == {"Service": delivery.service}]
            (use,) = [s for s in mine if "kms:DescribeKey" not in _as_list(s["Action"])]
            (describe,) = [s for s in mine if s["Action"] == "kms:DescribeKey"]
            assert set(_as_list(use["Action"])) == set(permissions.key_use)
            assert "kms:GenerateDataKey*" in _as_list(use["Action"])
            accounts = env.source_accounts(dataset.name)
            for statement in (use, describe):
                assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": accounts}
                assert "aws:SourceArn" in statement["Condition"]["ArnLike"]


def test_flow_logs_of_the_configured_vpcs_deliver_the_staging_contract_s_fields(templates, project):
    for env in project.config.environments:
        template = templates[env.name]
        flow_logs = list(resources(template, "AWS::EC2::FlowLog").values())
        expected = [
            (dataset, vpc)
            for dataset in project.datasets.values()
            for vpc in env.dataset_settings(dataset.name).vpc_ids
        ]
        assert len(flow_logs) == len(expected)
        for (dataset, vpc_id), flow_log in zip(expected, flow_logs, strict=True):
            properties = flow_log["Properties"]
            assert properties["ResourceId"] == vpc_id
            assert properties["ResourceType"] == "VPC"
            assert properties["TrafficType"] == "ALL"
            assert properties["LogDestinationType"] == "s3"
            assert rendered(properties["LogDestination"]) == _raw_bucket(template)
            assert properties["DestinationOptions"] == {
                "FileFormat": "plain-text",
                "HiveCompatiblePartitions": False,
                "PerHourPartition": True,
            }
            assert properties["MaxAggregationInterval"] == 600
            assert properties["LogFormat"] == flow_log_format(dataset)
            fields = [field.strip("${}") for field in properties["LogFormat"].split()]
            known = {field.replace("-", "_") for field in KNOWN_FIELDS}
            assert [field.replace("-", "_") for field in fields] == [
                c.name for c in dataset.staging_contract.columns if c.name in known
            ]
            assert any(d.startswith("StorageRawLandingPolicy") for d in flow_log["DependsOn"])
    assert resources(templates["prod"], "AWS::EC2::FlowLog"), "prod's config names a VPC"


def test_freshness_alarm_where_a_window_is_set(templates, project):
    from stacks.data_workflow.alarms import raw_object_key_pattern

    for env in project.config.environments:
        template = templates[env.name]
        alarms = {
            a["Properties"]["AlarmName"]: a["Properties"]
            for a in resources(template, "AWS::CloudWatch::Alarm").values()
        }
        for dataset in project.datasets.values():
            name = f"{project.config.project}-{env.name}-{dataset.name}-RawDataStale"
            minutes = env.freshness_minutes(dataset.name)
            if minutes is None:
                assert name not in alarms
                continue
            alarm = alarms[name]
            assert alarm["ComparisonOperator"] == "LessThanThreshold"
            assert alarm["Threshold"] == 1
            assert alarm["TreatMissingData"] == "breaching"
            assert alarm["Period"] * alarm["EvaluationPeriods"] == minutes * 60
            assert alarm["Namespace"] == "AWS/Events"
            (dimension,) = alarm["Dimensions"]
            rule = template["Resources"][dimension["Value"]["Ref"]]["Properties"]
            assert rule["EventPattern"]["detail-type"] == ["Object Created"]
            assert rule["EventPattern"]["detail"]["object"]["key"] == [
                {"wildcard": raw_object_key_pattern(dataset.spec.raw)}
            ]
            assert len(alarm["AlarmActions"]) == 1
    flow_logs = project.datasets["vpcflow"].spec.raw
    assert raw_object_key_pattern(flow_logs) == "AWSLogs/*/vpcflowlogs/*"
    assert project.config.environment("prod").freshness_minutes("vpcflow") == 120


def test_the_raw_bucket_sends_events_only_where_freshness_is_watched(templates, project):
    for env in project.config.environments:
        (raw,) = [
            b
            for logical_id, b in resources(templates[env.name], "AWS::S3::Bucket").items()
            if logical_id.startswith("StorageRawLanding")
        ]
        watched = any(env.freshness_minutes(d) is not None for d in project.datasets)
        notifications = raw["Properties"].get("NotificationConfiguration", {})
        assert notifications.get("EventBridgeConfiguration") == (
            {"EventBridgeEnabled": True} if watched else None
        )


def test_the_freshness_alarm_is_published_for_the_alarm_watch(built_app, project):
    stack = built_app.stages["prod"].data_workflow
    assert f"{project.config.project}-prod-vpcflow-RawDataStale" in stack.alarm_names
