"""CDK assertions on the data workflow stack of each environment: what the data sets share,
what each data set gets, and prod vs dev."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from dataops.job_contexts import Locations, job_context
from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    crawler_name,
    dataset_parameter_name,
    glue_database_name,
    glue_job_name,
    parameter_name,
    state_machine_name,
)
from jobkit.arguments import OPTIONAL, REQUIRED, from_arguments
from jobkit.partitions import PARTITION_FLOOR
from tests.infra.cfn import rendered

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

pytestmark = pytest.mark.xdist_group("synth")


@pytest.fixture(scope="module")
def templates(built_app) -> dict[str, Template]:
    from aws_cdk.assertions import Template

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


def _jobs(template: Template) -> dict[str, dict[str, Any]]:
    return {
        j["Properties"]["Name"]: j["Properties"]
        for j in _resources(template, "AWS::Glue::Job").values()
    }


def test_every_environment_has_a_data_workflow_stack(built_app, project):
    assert set(built_app.stages) == {env.name for env in project.config.environments}
    for stage in built_app.stages.values():
        assert set(stage.data_workflow.datasets) == set(project.datasets)


def test_buckets_are_versioned_private_ssl_only_owner_enforced_and_logged(dev):
    buckets = _resources(dev, "AWS::S3::Bucket")
    assert len(buckets) == 6
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(properties["PublicAccessBlockConfiguration"].values())
        assert properties["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
        }
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
    from aws_cdk.assertions import Match

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
    from aws_cdk.assertions import Match

    from stacks.data_workflow.catalog import PARQUET_SERDE

    database = glue_database_name(project.config.project, "dev")
    dev.resource_count_is("AWS::Glue::Database", 1)
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
        assert rendered(descriptor["Location"]).endswith(f"/{name}/")
        parameters = table_input["Parameters"]
        assert parameters["classification"] == "parquet"
        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.dt.type"] == "date"
        assert parameters["projection.dt.format"] == "yyyy-MM-dd"
        assert parameters["projection.dt.range"] == f"{PARTITION_FLOOR.isoformat()},NOW"
        assert "dt=${dt}/" in rendered(parameters["storage.location.template"])


def test_quarantine_tables_live_in_the_quarantine_bucket(dev, project):
    quarantines = {
        job.quarantine
        for dataset in project.datasets.values()
        for job in dataset.job_graph.jobs
        if job.quarantine
    }
    assert quarantines
    for table in _resources(dev, "AWS::Glue::Table").values():
        table_input = table["Properties"]["TableInput"]
        location = rendered(table_input["StorageDescriptor"]["Location"])
        assert ("StorageQuarantine" in location) == (table_input["Name"] in quarantines)


def test_crawler_of_a_declared_crawler_reads_its_prefix_with_a_header_classifier(dev, project):
    from aws_cdk.assertions import Match

    crawlers = {
        c["Properties"]["Name"]: c["Properties"]
        for c in _resources(dev, "AWS::Glue::Crawler").values()
    }
    crawled = {
        crawler_name(project.config.project, "dev", d.name): d
        for d in project.datasets.values()
        if d.spec.crawler is not None
    }
    assert set(crawlers) == set(crawled)
    for name, dataset in crawled.items():
        properties = crawlers[name]
        assert "Schedule" not in properties
        path = rendered(properties["Targets"]["S3Targets"][0]["Path"])
        assert path.endswith(f"/{dataset.spec.raw.prefix}")
        assert properties["TablePrefix"] == f"raw_{dataset.name}_"
        assert properties["CrawlerSecurityConfiguration"]
    dev.has_resource_properties(
        "AWS::Glue::Classifier",
        {"CsvClassifier": Match.object_like({"Delimiter": " ", "ContainsHeader": "PRESENT"})},
    )


def test_glue_jobs_follow_each_job_graph_and_the_config(templates, project):
    from stacks.data_workflow.glue_jobs import CONSOLE_BATCH_ID, GLUE_MAX_RETRIES, GLUE_VERSION

    for env in project.config.environments:
        jobs = _jobs(templates[env.name])
        assert set(jobs) == {
            glue_job_name(project.config.project, env.name, dataset.name, job)
            for dataset in project.datasets.values()
            for job in dataset.job_graph.names
        }
        for job in jobs.values():
            assert job["GlueVersion"] == GLUE_VERSION == "5.1"
            assert job["Command"]["Name"] == "glueetl"
            assert job["Command"]["PythonVersion"] == "3"
            assert rendered(job["Command"]["ScriptLocation"]).endswith(".py")
            assert job["WorkerType"] == env.glue.worker_type
            assert job["NumberOfWorkers"] == env.glue.workers
            assert job["Timeout"] == env.glue.timeout_minutes
            assert job["MaxRetries"] == GLUE_MAX_RETRIES == 0  # the workflow retries (config)
            assert job["ExecutionClass"] == ("FLEX" if env.glue.flex else "STANDARD")
            assert job["SecurityConfiguration"]
            arguments = job["DefaultArguments"]
            assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
            assert arguments["--enable-auto-scaling"] == "true"
            assert arguments["--enable-continuous-cloudwatch-log"] == "true"
            assert arguments["--enable-metrics"] == "true"
            assert arguments["--batch_id"] == CONSOLE_BATCH_ID
            zips = rendered(arguments["--extra-py-files"]).split(",")
            assert len(zips) == 2
            assert all(path.endswith(".zip") for path in zips)
            assert {f"--{name}" for name in (*REQUIRED, *OPTIONAL)} <= set(arguments)


def _local(dataset_root: str) -> Locations:
    return Locations(
        table=lambda name: f"{dataset_root}/{name}",
        state=lambda name: f"{dataset_root}/_state/{name}",
        raw=lambda dataset: f"{dataset_root}/raw",
    )


def test_job_arguments_parse_back_into_the_context_the_local_runner_builds(dev, project):
    """The Glue shell reads what the CDK app wrote: the same job context as run-local's,
    apart from where things are."""
    from stacks.data_workflow.glue_jobs import CONSOLE_BATCH_ID

    jobs = _jobs(dev)
    database = glue_database_name(project.config.project, "dev")
    for dataset in project.datasets.values():
        for spec in dataset.job_graph.jobs:
            name = glue_job_name(project.config.project, "dev", dataset.name, spec.name)
            arguments = {
                key.removeprefix("--"): rendered(value)
                for key, value in jobs[name]["DefaultArguments"].items()
            }
            parsed = from_arguments(arguments)
            local = job_context(
                dataset, spec, _local("/warehouse"), CONSOLE_BATCH_ID, database=database
            )
            assert list(parsed.inputs) == list(local.inputs)
            assert list(parsed.outputs) == list(local.outputs)
            unplaced = {
                "inputs": dict.fromkeys(local.inputs, ""),
                "outputs": dict.fromkeys(local.outputs, ""),
                "state_uri": "",
                "raw_uri": "raw",
                "started_at": local.started_at,
            }
            assert dataclasses.replace(parsed, **unplaced) == dataclasses.replace(local, **unplaced)
            for table, location in {**parsed.inputs, **parsed.outputs}.items():
                bucket = "StorageQuarantine" if table == spec.quarantine else "StorageCurated"
                assert location.startswith(f"s3://<{bucket}")
                assert location.endswith(f"/{table}/")
            assert parsed.state_uri.endswith(f"/_state/{dataset.name}/")
            assert parsed.raw_uri.startswith("s3://<StorageRawLanding")
            assert parsed.raw_uri.endswith(f"/{dataset.spec.raw.prefix}")


def test_dev_runs_flex_and_prod_standard(dev, prod):
    dev.has_resource_properties("AWS::Glue::Job", {"ExecutionClass": "FLEX"})
    assert all(j["ExecutionClass"] == "STANDARD" for j in _jobs(prod).values())


def test_glue_security_configuration_encrypts_s3_logs_and_bookmarks(dev):
    (config,) = _resources(dev, "AWS::Glue::SecurityConfiguration").values()
    encryption = config["Properties"]["EncryptionConfiguration"]
    assert encryption["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"


def test_data_quality_rulesets_from_the_contracts(dev, project):
    from stacks.data_workflow.data_quality import checked_contracts, contract_rules

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


def test_one_state_machine_a_data_set_logging_everything_encrypted(dev, project):
    machines = _resources(dev, "AWS::StepFunctions::StateMachine")
    assert {m["Properties"]["StateMachineName"] for m in machines.values()} == {
        state_machine_name(project.config.project, "dev", dataset) for dataset in project.datasets
    }
    for machine in machines.values():
        assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
        assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    for group in _resources(dev, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"]


def test_a_schedule_a_data_set_only_where_configured(templates, project):
    for env in project.config.environments:
        rules = [
            r["Properties"]
            for r in _resources(templates[env.name], "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
        ]
        if env.schedule is None:
            assert rules == []
        else:
            assert [r["ScheduleExpression"] for r in rules] == [env.schedule] * len(
                project.datasets
            )
            assert all("StateMachine" in str(r["Targets"][0]["Arn"]) for r in rules)


def test_alarms_of_every_data_set_notify_the_topic_and_are_published(built_app, dev, project):
    stack = built_app.stages["dev"].data_workflow
    alarms = _resources(dev, "AWS::CloudWatch::Alarm")
    names = sorted(a["Properties"]["AlarmName"] for a in alarms.values())
    assert names == sorted(stack.alarm_names)
    for dataset in project.datasets:
        prefix = f"{project.config.project}-dev-{dataset}-"
        assert {name.removeprefix(prefix) for name in names if name.startswith(prefix)} == {
            "ExecutionsFailed",
            "ExecutionsTimedOut",
            "GlueJobRunFailures",
            "DataQualityFailures",
        }
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


def test_data_quality_alarm_counts_the_workflow_metric_by_data_set(dev, project):
    namespace = f"{project.config.project}/dev"
    for dataset in project.datasets:
        name = f"{project.config.project}-dev-{dataset}-DataQualityFailures"
        (alarm,) = [
            a["Properties"]
            for a in _resources(dev, "AWS::CloudWatch::Alarm").values()
            if a["Properties"]["AlarmName"] == name
        ]
        metrics = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert {
            "Namespace": namespace,
            "MetricName": "DataQualityFailures",
            "Dimensions": [{"Name": "Dataset", "Value": dataset}],
        } in metrics
        assert any(m["Namespace"] == "AWS/Events" for m in metrics)


def test_glue_job_failures_of_a_data_set_reach_the_topic_and_its_alarm(dev, project):
    rules = [
        r["Properties"]
        for r in _resources(dev, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.glue"]
    ]
    assert len(rules) == len(project.datasets)
    for rule in rules:
        pattern = rule["EventPattern"]
        assert pattern["detail-type"] == ["Glue Job State Change"]
        assert pattern["detail"]["state"] == ["FAILED", "TIMEOUT", "ERROR"]
        assert len(rule["Targets"]) == 2  # the topic and the failure log


def test_topic_is_encrypted_and_only_alarms_and_rules_publish(dev):
    from aws_cdk.assertions import Match

    dev.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    (policy,) = _resources(dev, "AWS::SNS::TopicPolicy").values()
    allowed = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert [s["Principal"] for s in allowed] == [
        {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}
    ]


def test_athena_workgroup_enforces_encrypted_results(dev):
    from aws_cdk.assertions import Match

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


def test_published_names_of_the_environment_and_of_each_data_set(dev, project):
    names = {p["Properties"]["Name"] for p in _resources(dev, "AWS::SSM::Parameter").values()}
    name = project.config.project
    assert names == {parameter_name(name, "dev", member) for member in PublishedResource} | {
        dataset_parameter_name(name, "dev", dataset, member)
        for dataset in project.datasets
        for member in DataSetResource
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
        "topic",
        "athena_workgroup_name",
        "integration_test_role",
    ):
        assert getattr(stack, attribute) is not None
    for workflow in stack.datasets.values():
        assert workflow.state_machine is not None
        assert workflow.alarm_names
