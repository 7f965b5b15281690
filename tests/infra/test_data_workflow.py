"""CDK assertions on the data workflow stack of each environment, and prod vs dev."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from vpcflow_jobs.glue_shell import JOB_ARGUMENTS

from dataops.resource_names import PublishedResource, glue_database_name, parameter_name
from stacks.data_workflow.catalog import PARQUET_SERDE
from stacks.data_workflow.data_quality import checked_contracts, contract_rules
from stacks.data_workflow.glue_jobs import GLUE_MAX_RETRIES, GLUE_VERSION, glue_job_name

pytestmark = pytest.mark.xdist_group("synth")

RUN_TIME_ARGUMENTS = {"JOB_NAME", "batch_id"}  # Glue's own, and the execution name


@pytest.fixture(scope="module")
def templates(built_app) -> dict[str, Template]:
    return {
        name: Template.from_stack(stage.data_workflow) for name, stage in built_app.stages.items()
    }


@pytest.fixture(scope="module")
def dev(templates) -> Template:
    return templates["dev"]


@pytest.fixture(scope="module")
def prod(templates) -> Template:
    return templates["prod"]


def _resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(kind)


def test_every_environment_has_a_data_workflow_stack(built_app, project):
    assert set(built_app.stages) == {env.name for env in project.config.environments}


def test_buckets_are_versioned_private_ssl_only_and_logged(dev):
    buckets = _resources(dev, "AWS::S3::Bucket")
    assert len(buckets) == 6
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(properties["PublicAccessBlockConfiguration"].values())
    logged = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    assert len(logged) == 5
    kms = [
        b
        for b in logged
        if b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    ]
    assert len(kms) == 5
    policies = _resources(dev, "AWS::S3::BucketPolicy")
    assert len(policies) == 6
    for policy in policies.values():
        denies = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        assert denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_one_rotating_key_and_athena_results_expire(dev):
    dev.resource_count_is("AWS::KMS::Key", 1)
    dev.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    dev.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": {"LogFilePrefix": "athena-results/"},
            "LifecycleConfiguration": {"Rules": [Match.object_like({"ExpirationInDays": 7})]},
        },
    )


def test_prod_retains_data_and_dev_destroys_it(dev, prod):
    for bucket in _resources(prod, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain"
    assert _resources(prod, "AWS::KMS::Key").popitem()[1]["DeletionPolicy"] == "Retain"
    prod.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    for bucket in _resources(dev, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"
    dev.resource_count_is("Custom::S3AutoDeleteObjects", 6)


def test_catalog_tables_are_generated_from_the_contracts(dev, project):
    database = glue_database_name(project.config.project, "dev")
    dev.has_resource_properties(
        "AWS::Glue::Database", {"DatabaseInput": Match.object_like({"Name": database})}
    )
    tables = {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]
        for t in _resources(dev, "AWS::Glue::Table").values()
    }
    assert set(tables) == set(project.contracts)
    for name, contract in project.contracts.items():
        table = tables[name]
        assert table["DatabaseName"] == database
        table_input = table["TableInput"]
        descriptor = table_input["StorageDescriptor"]
        assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
            (c.name, c.type) for c in contract.data_columns
        ]
        assert [(c["Name"], c["Type"]) for c in table_input["PartitionKeys"]] == [
            (c.name, c.type) for c in contract.partition_columns
        ]
        assert descriptor["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
        assert f"/{name}/" in str(descriptor["Location"])
        parameters = table_input["Parameters"]
        assert parameters["classification"] == "parquet"
        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.dt.type"] == "date"
        assert parameters["projection.dt.format"] == "yyyy-MM-dd"
        assert "dt=${dt}/" in str(parameters["storage.location.template"])


def test_quarantine_table_lives_in_the_quarantine_bucket(dev):
    (quarantine,) = [
        t["Properties"]["TableInput"]
        for t in _resources(dev, "AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == "quarantine_vpcflowlogs"
    ]
    assert "StorageQuarantine" in str(quarantine["StorageDescriptor"]["Location"])


def test_crawler_has_no_schedule_and_a_header_classifier(dev):
    (crawler,) = _resources(dev, "AWS::Glue::Crawler").values()
    properties = crawler["Properties"]
    assert "Schedule" not in properties
    assert "/AWSLogs/" in str(properties["Targets"]["S3Targets"][0]["Path"])
    assert properties["CrawlerSecurityConfiguration"]
    dev.has_resource_properties(
        "AWS::Glue::Classifier",
        {"CsvClassifier": Match.object_like({"Delimiter": " ", "ContainsHeader": "PRESENT"})},
    )


def test_glue_jobs_follow_the_job_graph_and_the_config(templates, project):
    for env in project.config.environments:
        jobs = {
            j["Properties"]["Name"]: j["Properties"]
            for j in _resources(templates[env.name], "AWS::Glue::Job").values()
        }
        assert set(jobs) == {
            glue_job_name(project.config.project, env.name, name)
            for name in project.job_graph.names
        }
        for job in jobs.values():
            assert job["GlueVersion"] == GLUE_VERSION
            assert job["Command"]["Name"] == "glueetl"
            assert job["Command"]["PythonVersion"] == "3"
            assert job["WorkerType"] == env.glue.worker_type
            assert job["NumberOfWorkers"] == env.glue.workers
            assert job["Timeout"] == env.glue.timeout_minutes
            assert job["MaxRetries"] == GLUE_MAX_RETRIES  # the workflow retries (config)
            assert job["ExecutionClass"] == ("FLEX" if env.glue.flex else "STANDARD")
            assert job["SecurityConfiguration"]
            arguments = job["DefaultArguments"]
            assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
            assert arguments["--enable-auto-scaling"] == "true"
            assert arguments["--enable-continuous-cloudwatch-log"] == "true"
            assert arguments["--enable-metrics"] == "true"
            assert str(arguments["--extra-py-files"]).endswith(".zip")
            assert {f"--{a}" for a in JOB_ARGUMENTS} - {
                f"--{a}" for a in RUN_TIME_ARGUMENTS
            } <= set(arguments)


def test_dev_runs_flex_and_prod_standard(dev, prod):
    dev.has_resource_properties("AWS::Glue::Job", {"ExecutionClass": "FLEX"})
    assert all(
        j["Properties"]["ExecutionClass"] == "STANDARD"
        for j in _resources(prod, "AWS::Glue::Job").values()
    )


def test_glue_security_configuration_encrypts_s3_logs_and_bookmarks(dev):
    (config,) = _resources(dev, "AWS::Glue::SecurityConfiguration").values()
    encryption = config["Properties"]["EncryptionConfiguration"]
    assert encryption["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"


def test_data_quality_rulesets_from_the_contracts(dev, project):
    rulesets = {
        r["Properties"]["TargetTable"]["TableName"]: r["Properties"]["Ruleset"]
        for r in _resources(dev, "AWS::Glue::DataQualityRuleset").values()
    }
    assert set(rulesets) == {c.name for c in checked_contracts(project.contracts)}
    for table, text in rulesets.items():
        contract = project.contracts[table]
        for column in contract.columns:
            assert (f'IsComplete "{column.name}"' in text) == (not column.nullable)
        assert [r.dqdl for r in contract_rules(contract)] == [
            line.strip().rstrip(",") for line in text.splitlines()[1:-1]
        ]
    assert (
        'IsPrimaryKey "dt" "source_ip_address" "destination_port"'
        in rulesets["data_app_conn_stats"]
    )


def test_state_machine_logs_everything_encrypted_and_traces(dev):
    dev.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
        },
    )
    for group in _resources(dev, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"]


def test_schedule_only_where_configured(templates, project):
    for env in project.config.environments:
        rules = [
            r["Properties"]
            for r in _resources(templates[env.name], "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
        ]
        if env.schedule is None:
            assert rules == []
        else:
            assert [r["ScheduleExpression"] for r in rules] == [env.schedule]
            assert "StateMachine" in str(rules[0]["Targets"][0]["Arn"])


def test_alarms_notify_the_topic_and_are_published(built_app, dev, project):
    stack = built_app.stages["dev"].data_workflow
    alarms = _resources(dev, "AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["AlarmName"] for a in alarms.values()) == sorted(
        stack.alarm_names
    )
    assert len(stack.alarms) == len(stack.alarm_names) == 4
    metrics = {a["Properties"]["MetricName"] for a in alarms.values()}
    assert {"ExecutionsFailed", "ExecutionsTimedOut", "GlueJobRunFailures"} <= metrics
    assert "DataQualityFailures" in metrics
    topic = stack.resolve(stack.topic.topic_arn)
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [topic]
    dev.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": parameter_name(project.config.project, "dev", PublishedResource.ALARM_NAMES),
            "Value": ",".join(stack.alarm_names),
        },
    )


def test_glue_job_failures_reach_the_topic_and_a_metric(dev):
    dev.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "source": ["aws.glue"],
                    "detail-type": ["Glue Job State Change"],
                    "detail": Match.object_like({"state": ["FAILED", "TIMEOUT", "ERROR"]}),
                }
            )
        },
    )
    dev.has_resource_properties(
        "AWS::Logs::MetricFilter",
        {"MetricTransformations": [Match.object_like({"MetricName": "GlueJobRunFailures"})]},
    )


def test_topic_is_encrypted_and_only_alarms_and_rules_publish(dev):
    dev.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    (policy,) = _resources(dev, "AWS::SNS::TopicPolicy").values()
    allowed = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert [s["Principal"] for s in allowed] == [
        {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}
    ]


def test_athena_workgroup_enforces_encrypted_results(dev):
    dev.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "EnforceWorkGroupConfiguration": True,
                    "ResultConfiguration": Match.object_like(
                        {
                            "EncryptionConfiguration": Match.object_like(
                                {"EncryptionOption": "SSE_KMS"}
                            )
                        }
                    ),
                }
            )
        },
    )


def test_every_published_resource_has_its_parameter(dev, project):
    names = {p["Properties"]["Name"] for p in _resources(dev, "AWS::SSM::Parameter").values()}
    assert names == {
        parameter_name(project.config.project, "dev", member) for member in PublishedResource
    }


def test_stack_attributes_for_the_delivery_pipeline_and_tests(built_app, project):
    stack = built_app.stages["staging"].data_workflow
    assert stack.database_name == glue_database_name(project.config.project, "staging")
    for attribute in (
        "raw_bucket",
        "curated_bucket",
        "quarantine_bucket",
        "athena_results_bucket",
        "assets_bucket",
        "data_key",
        "state_machine",
        "topic",
        "athena_workgroup_name",
    ):
        assert getattr(stack, attribute) is not None
