"""The rehearsal's parts one by one: template reading and tokens, the S3 mirror, Athena's
result shapes, the awsglue stand-in, what is refused with exit 2, and moto's gaps as they are."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from dataops import cli
from dataops.rehearsal import RehearsalError
from dataops.rehearsal.assembly import find_stack, is_stale, synthesize
from dataops.rehearsal.athena_duckdb import QueryResult, duckdb_type
from dataops.rehearsal.faults import Faults
from dataops.rehearsal.glue_runner import GlueRunner
from dataops.rehearsal.glue_standin.awsglue.utils import GlueArgumentError, getResolvedOptions
from dataops.rehearsal.s3_mirror import S3Mirror
from dataops.rehearsal.sfn_patches import unemulated_integrations
from dataops.rehearsal.tokens import Resolver, StackContext

CONTEXT = StackContext("app-dev-data", "222222222222", "eu-west-1")
TEMPLATE = {
    "Parameters": {"Version": {"Type": "String", "Default": "6"}},
    "Resources": {
        "Raw": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-bucket"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"StateMachineName": "flow"},
        },
        "Database": {
            "Type": "AWS::Glue::Database",
            "Properties": {"DatabaseInput": {"Name": "db"}},
        },
    },
}


@pytest.fixture
def resolver():
    return Resolver(TEMPLATE, CONTEXT)


def test_names_are_those_set_or_deterministic_generated_ones(resolver):
    generated = resolver.ref("Raw")
    assert generated == Resolver(TEMPLATE, CONTEXT).ref("Raw")
    assert generated.startswith("app-dev-data-raw-")
    assert generated == generated.lower()
    assert len(generated) <= 63
    assert resolver.ref("Named") == "my-bucket"
    assert resolver.ref("Database") == "db"
    assert resolver.ref("Topic") == "arn:aws:sns:eu-west-1:222222222222:alerts"
    assert resolver.ref("Machine") == "arn:aws:states:eu-west-1:222222222222:stateMachine:flow"
    assert resolver.ref("Version") == "6"


def test_intrinsic_functions_and_pseudo_parameters_resolve(resolver):
    value = {
        "Join": {"Fn::Join": ["", ["s3://", {"Ref": "Named"}, "/", {"Ref": "AWS::Region"}]]},
        "Sub": {"Fn::Sub": "${Named}:${Role.Arn}:${!Literal}:${AWS::AccountId}"},
        "SubWithVariables": {"Fn::Sub": ["${a}-${AWS::Partition}", {"a": {"Ref": "Named"}}]},
        "Select": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
        "Key": {"Fn::GetAtt": ["Key", "Arn"]},
        "Dropped": {"Ref": "AWS::NoValue"},
        "List": [{"Ref": "AWS::NoValue"}, "kept"],
    }
    resolved = resolver.resolve(value)
    assert resolved["Join"] == "s3://my-bucket/eu-west-1"
    assert resolved["Sub"] == (
        "my-bucket:arn:aws:iam::222222222222:role/"
        + resolver.ref("Role")
        + ":${Literal}:222222222222"
    )
    assert resolved["SubWithVariables"] == "my-bucket-aws"
    assert resolved["Select"] == "b"
    assert resolved["Key"].startswith("arn:aws:kms:eu-west-1:222222222222:key/")
    assert "Dropped" not in resolved
    assert resolved["List"] == ["kept"]


def test_what_is_not_emulated_is_named(resolver):
    with pytest.raises(RehearsalError, match="Fn::If is not emulated"):
        resolver.resolve({"Fn::If": ["Condition", "a", "b"]})
    with pytest.raises(RehearsalError, match=r"Fn::GetAtt Named\.WebsiteURL"):
        resolver.resolve({"Fn::GetAtt": ["Named", "WebsiteURL"]})


def _assembly(root: Path) -> Path:
    """A cloud assembly with the stack nested in a stage, as the delivery pipeline has it."""
    stage = root / "assembly-Pipeline-Dev"
    stage.mkdir(parents=True)
    (root / "asset.abc.py").write_text("print('job')\n")
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "assembly-Pipeline-Dev": {
                        "type": "cdk:cloud-assembly",
                        "properties": {"directoryName": "assembly-Pipeline-Dev"},
                    }
                }
            }
        )
    )
    (stage / "Stack.template.json").write_text(json.dumps({"Resources": {}}))
    (stage / "Stack.assets.json").write_text(
        json.dumps(
            {
                "files": {
                    "abc": {
                        "source": {"path": "../asset.abc.py", "packaging": "file"},
                        "destinations": {
                            "d": {
                                "bucketName": "assets-${AWS::AccountId}-${AWS::Region}",
                                "objectKey": "abc.py",
                            }
                        },
                    }
                }
            }
        )
    )
    (stage / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "Stack.assets": {
                        "type": "cdk:asset-manifest",
                        "properties": {"file": "Stack.assets.json"},
                    },
                    "Stack": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://222222222222/eu-west-1",
                        "properties": {
                            "templateFile": "Stack.template.json",
                            "stackName": "app-dev-data",
                        },
                        "dependencies": ["Stack.assets"],
                    },
                }
            }
        )
    )
    return root


def test_the_stack_is_found_in_a_nested_assembly_with_its_assets(tmp_path):
    stack = find_stack(_assembly(tmp_path / "cdk.out"), "app-dev-data")
    assert (stack.account, stack.region) == ("222222222222", "eu-west-1")
    assert stack.assets == {
        "s3://assets-222222222222-eu-west-1/abc.py": (tmp_path / "cdk.out" / "asset.abc.py")
    }
    with pytest.raises(RehearsalError, match="no stack named app-prod-data"):
        find_stack(tmp_path / "cdk.out", "app-prod-data")


def test_an_assembly_is_stale_when_an_input_of_the_app_is_newer(tmp_path):
    root = tmp_path / "checkout"
    (root / "stacks").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "cdk.json").write_text(json.dumps({"watch": {"include": ["**"], "exclude": ["tests"]}}))
    source = root / "stacks" / "stack.py"
    source.write_text("")
    assert is_stale(root, root / "cdk.out")
    _assembly(root / "cdk.out")
    written = (root / "cdk.out" / "manifest.json").stat().st_mtime
    os.utime(source, (written - 10, written - 10))
    os.utime(root / "cdk.json", (written - 10, written - 10))
    (root / "tests" / "test_new.py").write_text("")  # excluded by cdk.json's watch settings
    assert not is_stale(root, root / "cdk.out")
    os.utime(source, (written + 10, written + 10))
    assert is_stale(root, root / "cdk.out")


def test_a_failing_synth_is_one_line(tmp_path):
    cdk = tmp_path / "node_modules" / ".bin" / "cdk"
    cdk.parent.mkdir(parents=True)
    cdk.write_text("#!/bin/sh\necho 'noise' >&2\necho 'error: config: bad account' >&2\nexit 2\n")
    cdk.chmod(0o755)
    with pytest.raises(RehearsalError) as raised:
        synthesize(tmp_path, tmp_path / "cdk.out")
    assert raised.value.lines == [
        "cdk synth failed: config: bad account; fix: run make synth and correct it"
    ]


def test_the_mirror_syncs_both_ways_with_deletions(tmp_path):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="t/dt=1/a.parquet", Body=b"a")
        s3.put_object(Bucket="data", Key="gone.json", Body=b"{}")
        mirror = S3Mirror(s3_backends[DEFAULT_ACCOUNT_ID]["aws"], tmp_path)
        assert (
            mirror.localize("s3://data/t/,s3://data/x.py")
            == f"{tmp_path}/data/t/,{tmp_path}/data/x.py"
        )
        with mirror.synced(push=True):
            assert (tmp_path / "data" / "t" / "dt=1" / "a.parquet").read_bytes() == b"a"
            (tmp_path / "data" / "gone.json").unlink()
            (tmp_path / "data" / "t" / "dt=2").mkdir()
            (tmp_path / "data" / "t" / "dt=2" / "b.parquet").write_bytes(b"b")
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket="data")["Contents"]}
        assert keys == {"t/dt=1/a.parquet", "t/dt=2/b.parquet"}
        s3.delete_object(Bucket="data", Key="t/dt=1/a.parquet")
        s3.put_object(Bucket="data", Key="t/dt=2/b.parquet", Body=b"changed")
        mirror.pull()
        assert not (tmp_path / "data" / "t" / "dt=1" / "a.parquet").exists()
        assert (tmp_path / "data" / "t" / "dt=2" / "b.parquet").read_bytes() == b"changed"


def test_job_arguments_map_s3_uris_to_the_mirror_and_assets_inside_json_objects_too(tmp_path):
    with mock_aws():
        mirror = S3Mirror(s3_backends[DEFAULT_ACCOUNT_ID]["aws"], tmp_path / "s3")
        runner = GlueRunner(
            jobs={},
            assets={"s3://assets/lib.zip": tmp_path / "lib.zip"},
            mirror=mirror,
            faults=Faults(),
            spark=lambda: None,
            crawl_polls=1,
        )
        outputs = {"staged": "s3://curated/staged/", "quarantine": "s3://quarantine/q/"}
        assert json.loads(runner.localize(json.dumps(outputs))) == {
            "staged": f"{tmp_path}/s3/curated/staged/",
            "quarantine": f"{tmp_path}/s3/quarantine/q/",
        }
        assert runner.localize("s3://assets/lib.zip,s3://curated/x.py") == (
            f"{tmp_path}/lib.zip,{tmp_path}/s3/curated/x.py"
        )
        assert runner.localize("{not json s3://curated/a") == f"{{not json {tmp_path}/s3/curated/a"
        assert mirror.s3_uri(f"{tmp_path}/s3/curated/staged/dt=1/f.parquet") == (
            "s3://curated/staged/dt=1/f.parquet"
        )


def test_glue_types_map_to_duckdb_and_results_come_back_as_athena_shapes():
    assert duckdb_type("map<string,array<int>>") == "MAP(VARCHAR, INTEGER[])"
    assert duckdb_type("decimal(10,2)") == "DECIMAL(10,2)"
    result = QueryResult(("n", "name"), ("bigint", "varchar"), (("1", None),))
    assert result.athena_rows() == [
        {"Data": [{"VarCharValue": "n"}, {"VarCharValue": "name"}]},
        {"Data": [{"VarCharValue": "1"}, {}]},
    ]
    assert [column["Type"] for column in result.column_info()] == ["bigint", "varchar"]


def test_the_awsglue_stand_in_resolves_options_as_glue_does():
    argv = ["script.py", "--JOB_NAME", "job", "--raw_uri", "/tmp/raw", "--other", "x"]
    assert getResolvedOptions(argv, ["JOB_NAME", "raw_uri"]) == {
        "JOB_NAME": "job",
        "raw_uri": "/tmp/raw",
    }
    with pytest.raises(GlueArgumentError, match="--batch_id"):
        getResolvedOptions(argv, ["batch_id"])


def test_integrations_the_rehearsal_cannot_run_are_named():
    definition = {
        "States": {
            "Run": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync"},
            "Sdk": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler"},
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "States": {
                            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}
                        }
                    }
                ],
            },
            "Token": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject.waitForTaskToken",
            },
            "Records": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject"},
            "Metric": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:cloudwatch:putMetricData",
            },
            "Table": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem"},
        }
    }
    assert unemulated_integrations(definition) == [
        "Call: arn:aws:states:::lambda:invoke",
        "Token: arn:aws:states:::aws-sdk:s3:getObject.waitForTaskToken",
        "Table: arn:aws:states:::aws-sdk:dynamodb:getItem",
    ]


def _checkout(tmp_path: Path) -> Path:
    """The declarations of this checkout (enough for the command to load the project)."""
    from dataops.project import PROJECT_ROOT

    root = tmp_path / "checkout"
    for name in ("config", "contracts", "glue_scripts"):
        shutil.copytree(PROJECT_ROOT / name, root / name)
    (root / "cdk.json").write_text("{}")
    return root


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    root = _checkout(tmp_path)
    assert cli.main(["rehearse", "--env", "qa", "--root", str(root)]) == cli.EXIT_USAGE
    assert cli.main(["rehearse", "--env", "dev", "--root", str(root)]) == cli.EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("error: config/environments.yaml: environments: ")
    assert lines[1] == (
        f"error: {root}/node_modules/.bin/cdk: the CDK CLI is not installed; fix: run make setup"
    )


def test_a_definition_with_an_integration_not_emulated_is_refused_with_exit_2(tmp_path, capsys):
    root = _checkout(tmp_path)
    assembly = _assembly(tmp_path / "cdk.out")
    stage = assembly / "assembly-Pipeline-Dev"
    manifest = json.loads((stage / "manifest.json").read_text())
    manifest["artifacts"]["Stack"]["properties"]["stackName"] = "flowlogs-dataops-dev-data-workflow"
    (stage / "manifest.json").write_text(json.dumps(manifest))
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
        },
    }
    (stage / "Stack.template.json").write_text(
        json.dumps(
            {
                "Resources": {
                    "Flow": {
                        "Type": "AWS::StepFunctions::StateMachine",
                        "Properties": {"DefinitionString": json.dumps(definition), "RoleArn": "r"},
                    }
                }
            }
        )
    )
    code = cli.main(["rehearse", "--env", "dev", "--root", str(root), "--cdk-out", str(assembly)])
    assert code == cli.EXIT_USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        "Call: arn:aws:states:::lambda:invoke is a service integration the rehearsal does not emulate"
        in line
    )


@pytest.mark.parametrize(
    ("resource", "parameters"),
    [
        ("glue:startJobRun.sync", {"JobName": "job"}),
        ("athena:startQueryExecution.sync", {"QueryString": "SELECT 1"}),
    ],
)
def test_moto_alone_still_has_the_gaps_the_rehearsal_closes(resource, parameters):
    """When this fails, moto closed a gap: drop the rehearsal's patch for it."""
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::{resource}",
                "Parameters": parameters,
                "End": True,
            }
        },
    }
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        boto3.client("glue", region_name="eu-west-1").create_job(
            Name="job", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://a/b.py"}
        )
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        arn = sfn.create_state_machine(
            name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, name="e")["executionArn"]
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            time.sleep(0.05)
    assert described["error"] == "States.Runtime"


def _run_alone(definition: dict, execution_input: dict) -> dict:
    """One execution of ``definition`` on moto's interpreter, unpatched."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="records", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_object(Bucket="records", Key="record.json", Body=b'{"rows": 1}')
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        arn = sfn.create_state_machine(
            name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=arn, name="e", input=json.dumps(execution_input)
        )["executionArn"]
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            time.sleep(0.05)
    return described


def test_moto_alone_still_returns_a_streamed_body_and_keeps_intrinsic_escapes():
    """When this fails, moto closed a gap: drop the rehearsal's patch for it."""
    read = {
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "records", "Key": "record.json"},
                "ResultSelector": {"record.$": "States.StringToJson($.Body)"},
                "End": True,
            }
        },
    }
    # The body is a stream, not the object's text: StringToJson fails on it.
    assert _run_alone(read, {})["status"] == "FAILED"
    quote = {
        "StartAt": "Quote",
        "States": {
            "Quote": {
                "Type": "Pass",
                "Parameters": {"text.$": "States.Format('it\\'s {}', $.name)"},
                "End": True,
            }
        },
    }
    described = _run_alone(quote, {"name": "x"})
    assert json.loads(described.get("output") or "{}").get("text") != "it's x"


def _impact(changed: list[str], datasets: tuple[str, ...] = (), shared: tuple[str, ...] = ()):
    from dataops.impact import DataSetImpact, Impact

    return Impact(
        changed=tuple(changed),
        shared=shared,
        datasets={name: DataSetImpact(name, (), (), (), ()) for name in datasets},
    )


@pytest.mark.parametrize(
    ("changed", "datasets", "shared", "rehearsed"),
    [
        (["glue_scripts/vpcflow/models/data_app_conn_stats.sql"], ("vpcflow",), (), ["vpcflow"]),
        (["contracts/cloudtrail/x.yaml"], ("cloudtrail",), (), ["cloudtrail"]),
        (["glue_scripts/jobkit/runner.py"], ("cloudtrail", "vpcflow"), ("x",), None),
        (["stacks/data_workflow/workflow.py"], (), (), None),
        (["dataops/rehearsal/harness.py"], (), (), None),
        (["config/environments.yaml"], ("vpcflow",), ("config/environments.yaml",), None),
        (["README.md"], (), (), []),
    ],
)
def test_a_change_rehearses_the_data_sets_it_can_affect(changed, datasets, shared, rehearsed):
    from dataops.rehearsal.command import impacted_datasets

    assert impacted_datasets(_impact(changed, datasets, shared)) == rehearsed


def test_the_rehearsed_project_holds_only_the_chosen_data_sets(project):
    from dataops.rehearsal.command import rehearsed_project

    assert list(rehearsed_project(project, ["cloudtrail"]).datasets) == ["cloudtrail"]
    assert rehearsed_project(project, None).datasets == project.datasets


def test_an_impact_without_data_sets_rehearses_nothing(tmp_path, capsys):
    impact = tmp_path / "impact.json"
    impact.write_text(json.dumps(_impact(["README.md"]).as_json()))
    root = _checkout(tmp_path)
    assert cli.main(["rehearse", "--impact", str(impact), "--root", str(root)]) == cli.EXIT_OK
    assert "impacts no data set; nothing to rehearse" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--impact", "missing.json"], "--impact: cannot read missing.json"),
        (["--impact", "x.json", "--dataset", "vpcflow"], "--impact: not with --dataset"),
        (["--dataset", "nope"], "--dataset: no data set 'nope'; fix: use one of"),
    ],
)
def test_a_bad_selection_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    root = _checkout(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["rehearse", *argv, "--root", str(root)]) == cli.EXIT_USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {message}")


def _check_branch(table: str) -> dict:
    """A data check branch as the data-workflow stack generates one (abridged)."""
    return {
        "StartAt": f"Read{table}RunRecord",
        "States": {
            f"Read{table}RunRecord": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Next": f"{table}Written?",
            },
            f"{table}Written?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {
                                "Variable": f"$.producer.record.tables.{table}.dt_sql",
                                "IsPresent": True,
                            }
                        ],
                        "Next": f"Query{table}",
                    }
                ],
                "Default": f"{table}NotWritten",
            },
            f"{table}NotWritten": {"Type": "Succeed"},
            f"Query{table}": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                "End": True,
            },
        },
    }


def _checks_run(*entered: str):
    from dataops.rehearsal.execution import ExecutionResult

    definition = {
        "StartAt": "DataChecks",
        "States": {
            "DataChecks": {
                "Type": "Parallel",
                "Branches": [_check_branch("staged"), _check_branch("quarantine")],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    names = ["DataChecks", *entered, "Done"]
    events = tuple(
        {"type": "StateEntered", "stateEnteredEventDetails": {"name": name}} for name in names
    )
    return ExecutionResult("arn:x:exec", "SUCCEEDED", None, None, events, definition)


def test_checks_as_written_query_exactly_the_tables_the_execution_wrote():
    from dataops.rehearsal.expectations import CheckPath, Expected, path_problems

    expected = Expected(checks=CheckPath.AS_WRITTEN)
    staged_only = _checks_run(
        "ReadstagedRunRecord", "stagedWritten?", "Querystaged",
        "ReadquarantineRunRecord", "quarantineWritten?", "quarantineNotWritten",
    )  # fmt: skip
    assert path_problems(staged_only, expected, frozenset({"staged"})) == []
    assert path_problems(staged_only, Expected(), frozenset({"staged"})) != []
    (problem,) = path_problems(staged_only, expected, frozenset({"staged", "quarantine"}))
    assert problem == (
        "data check of quarantine: 0 query(ies), expected 1 (the execution wrote it)"
    )
    (problem,) = path_problems(staged_only, expected, frozenset())
    assert problem.startswith("data check of staged: 1 query(ies), expected 0")


def test_digests_beside_the_logs_are_not_objects_the_raw_job_lists(project, tmp_path):
    from dataops.rehearsal.scenarios import Seeded, _listed
    from dataops.samples import generator_for

    dataset = project.datasets["cloudtrail"]
    generate = generator_for(dataset)
    data = generate(tmp_path, 60, 3, 1)
    listed = _listed(Seeded(dataset, data, tmp_path))
    assert sorted(listed) == sorted(data.log_files)
    assert data.digest_files
