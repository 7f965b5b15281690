"""A small synthesized-looking stack for the rehearsal's own tests, no CDK and no Spark.

It has what the data workflow's stack has, in miniature: an auto-named bucket, a Glue database
and table, a crawler, a Glue job whose script (and ``--extra-py-files`` zip) are assets, an SNS
topic, an Athena workgroup, the published SSM parameters and a state machine that refuses an
execution name holding a ``.`` (``StringMatches`` on ``$$.Execution.Name``, the cause written by
``States.Format`` with escaped quotes), starts the crawler and polls it, runs the job (``.sync``,
retried once when it fails), then in a Parallel branch reads the run record the job wrote
(``aws-sdk:s3:getObject`` and ``States.StringToJson``) and checks the partitions it names on
Athena (a ``States.Format`` query with quoted literals), and on any failure notifies the topic
and fails.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from dataops.rehearsal.assembly import StackArtifact
from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    dataset_parameter_name,
    parameter_name,
)

DATASET = "mini"
ACCOUNT = "222222222222"
REGION = "eu-west-1"
STACK = "mini-dev-data-workflow"
DATABASE = "mini_dev"
JOB = "mini-dev-write"
CRAWLER = "mini-dev-raw"
WORKGROUP = "mini-dev"
ASSETS = f"s3://cdk-assets-{ACCOUNT}-{REGION}"
SCRIPT_URI = f"{ASSETS}/write.py"
LIBRARY_URI = f"{ASSETS}/minilib.zip"
# The job writes this many rows times the library's factor; the check flags n >= LIMIT.
ROWS = 3
LIMIT = 100
SCRIPT = """
import json
import sys
from pathlib import Path

import duckdb
import minilib
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(
    sys.argv, ["output_uri", "records_uri", "batch", "rows", "mode", "JOB_RUN_ID"]
)
if args["mode"] == "explode":
    raise ValueError("boom")
out = Path(args["output_uri"]) / "dt=2024-05-06"
out.mkdir(parents=True, exist_ok=True)
rows = int(args["rows"]) * minilib.FACTOR
duckdb.sql(
    f"COPY (SELECT range::INTEGER AS n FROM range({rows})) "
    f"TO '{out}/part-{args['JOB_RUN_ID']}.parquet' (FORMAT parquet)"
)
record = Path(args["records_uri"]) / f"{args['batch']}.json"
record.parent.mkdir(parents=True, exist_ok=True)
record.write_text(json.dumps({"rows": rows, "dt_sql": "DATE '2024-05-06'"}))
"""
LIBRARY_FACTOR = 2


def _join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def definition() -> dict[str, Any]:
    notify = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify"}
    crawler_call = "arn:aws:states:::aws-sdk:glue:{}"
    return {
        "StartAt": "NameUsable?",
        "States": {
            "NameUsable?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$$.Execution.Name",
                        "StringMatches": "*.*",
                        "Next": "NameRefused",
                    }
                ],
                "Default": "StartCrawler",
            },
            "NameRefused": {
                "Type": "Pass",
                "Parameters": {
                    "Error": "InvalidExecutionName",
                    "Cause.$": "States.Format('name {} holds a \\'.\\'', $$.Execution.Name)",
                },
                "ResultPath": "$.error",
                "Next": "Notify",
            },
            "StartCrawler": {
                "Type": "Task",
                "Resource": crawler_call.format("startCrawler"),
                "Parameters": {"Name": CRAWLER},
                "ResultPath": None,
                "Catch": [
                    {
                        "ErrorEquals": ["Glue.CrawlerRunningException"],
                        "ResultPath": None,
                        "Next": "BeginPolling",
                    },
                    notify,
                ],
                "Next": "BeginPolling",
            },
            "BeginPolling": {
                "Type": "Pass",
                "Result": {"count": 0},
                "ResultPath": "$.polls",
                "Next": "WaitForCrawler",
            },
            "WaitForCrawler": {"Type": "Wait", "Seconds": 30, "Next": "GetCrawler"},
            "GetCrawler": {
                "Type": "Task",
                "Resource": crawler_call.format("getCrawler"),
                "Parameters": {"Name": CRAWLER},
                "ResultPath": "$.crawler",
                "Catch": [notify],
                "Next": "CrawlerReady?",
            },
            "CrawlerReady?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.crawler.Crawler.State",
                        "StringEquals": "READY",
                        "Next": "CrawlSucceeded?",
                    },
                    {
                        "Variable": "$.polls.count",
                        "NumericGreaterThanEquals": 3,
                        "Next": "CrawlerTimedOut",
                    },
                ],
                "Default": "CountPoll",
            },
            "CountPoll": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.polls.count, 1)"},
                "ResultPath": "$.polls",
                "Next": "WaitForCrawler",
            },
            "CrawlSucceeded?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.crawler.Crawler.LastCrawl.Status",
                        "StringEquals": "SUCCEEDED",
                        "Next": "RunWriteJob",
                    }
                ],
                "Default": "CrawlerFailed",
            },
            "CrawlerFailed": {
                "Type": "Pass",
                "Result": {"Error": "CrawlerFailed", "Cause": "the crawl did not succeed"},
                "ResultPath": "$.error",
                "Next": "Notify",
            },
            "CrawlerTimedOut": {
                "Type": "Pass",
                "Result": {"Error": "CrawlerTimedOut", "Cause": "still running"},
                "ResultPath": "$.error",
                "Next": "Notify",
            },
            "RunWriteJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {
                    "JobName": JOB,
                    "Arguments": {"--mode.$": "$.mode", "--batch.$": "$$.Execution.Name"},
                },
                "ResultSelector": {"id.$": "$.Id", "state.$": "$.JobRunState"},
                "ResultPath": "$.jobRun",
                "Retry": [
                    {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 120, "MaxAttempts": 1}
                ],
                "Catch": [notify],
                "Next": "Checks",
            },
            "Checks": {
                "Type": "Parallel",
                "ResultPath": None,
                "Catch": [notify],
                "Branches": [
                    {
                        "StartAt": "ReadRecord",
                        "States": {
                            "ReadRecord": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                                "Parameters": {
                                    "Bucket": "${DataBucket}",
                                    "Key.$": "States.Format('records/{}.json', $$.Execution.Name)",
                                },
                                "ResultSelector": {"record.$": "States.StringToJson($.Body)"},
                                "ResultPath": "$.written",
                                "Next": "QueryNumbers",
                            },
                            "QueryNumbers": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                                "Parameters": {
                                    "QueryString.$": "States.Format('SELECT n FROM numbers "
                                    f"WHERE n >= {LIMIT} AND dt IN ({{}}) AND \\'it\\'\\'s\\' "
                                    "<> \\'\\'', $.written.record.dt_sql)",
                                    "WorkGroup": WORKGROUP,
                                    "QueryExecutionContext": {"Database": DATABASE},
                                },
                                "ResultSelector": {"id.$": "$.QueryExecution.QueryExecutionId"},
                                "ResultPath": "$.query",
                                "Next": "ReadNumbers",
                            },
                            "ReadNumbers": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:athena:getQueryResults",
                                "Parameters": {"QueryExecutionId.$": "$.query.id"},
                                "ResultSelector": {"rows.$": "$.ResultSet.Rows"},
                                "ResultPath": "$.result",
                                "Next": "NumbersPass?",
                            },
                            "NumbersPass?": {
                                "Type": "Choice",
                                "Choices": [
                                    {
                                        "Variable": "$.result.rows[1]",
                                        "IsPresent": True,
                                        "Next": "NumbersTooLarge",
                                    }
                                ],
                                "Default": "NumbersPassed",
                            },
                            "NumbersTooLarge": {
                                "Type": "Fail",
                                "Error": "DataContractViolated",
                                "Cause": "numbers too large",
                            },
                            "NumbersPassed": {"Type": "Succeed"},
                        },
                    }
                ],
                "Next": "Succeeded",
            },
            "Succeeded": {"Type": "Succeed"},
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": "${TopicArn}",
                    "Subject": "mini workflow failed",
                    "Message": {"error.$": "$.error"},
                },
                "ResultPath": None,
                "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }


def template(project: str, environment: str) -> dict[str, Any]:
    """The stack as CDK would synthesize it: tokens where names are generated."""
    data = {"Ref": "Data"}
    role = {"Fn::GetAtt": ["Role", "Arn"]}

    def published(resource: PublishedResource, value: Any) -> dict[str, Any]:
        return {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": parameter_name(project, environment, resource),
                "Type": "String",
                "Value": value,
            },
        }

    return {
        "Parameters": {"BootstrapVersion": {"Type": "String", "Default": "6"}},
        "Resources": {
            "Data": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Database": {
                "Type": "AWS::Glue::Database",
                "Properties": {"CatalogId": ACCOUNT, "DatabaseInput": {"Name": DATABASE}},
            },
            "Numbers": {
                "Type": "AWS::Glue::Table",
                "Properties": {
                    "CatalogId": ACCOUNT,
                    "DatabaseName": DATABASE,
                    "TableInput": {
                        "Name": "numbers",
                        "PartitionKeys": [{"Name": "dt", "Type": "date"}],
                        "StorageDescriptor": {
                            "Columns": [{"Name": "n", "Type": "int"}],
                            "Location": _join("s3://", data, "/numbers/"),
                        },
                    },
                },
            },
            "Job": {
                "Type": "AWS::Glue::Job",
                "Properties": {
                    "Name": JOB,
                    "Role": role,
                    "Command": {"Name": "pythonshell", "ScriptLocation": SCRIPT_URI},
                    "DefaultArguments": {
                        "--output_uri": {"Fn::Sub": "s3://${Data}/numbers/"},
                        "--records_uri": {"Fn::Sub": "s3://${Data}/records/"},
                        "--batch": "console",
                        "--rows": str(ROWS),
                        "--mode": "normal",
                        "--extra-py-files": LIBRARY_URI,
                    },
                    "MaxRetries": 0,
                },
            },
            "Crawler": {
                "Type": "AWS::Glue::Crawler",
                "Properties": {
                    "Name": CRAWLER,
                    "Role": role,
                    "DatabaseName": DATABASE,
                    "Targets": {"S3Targets": [{"Path": _join("s3://", data, "/raw/")}]},
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "mini-dev"}},
            "WorkGroup": {
                "Type": "AWS::Athena::WorkGroup",
                "Properties": {
                    "Name": WORKGROUP,
                    "WorkGroupConfiguration": {
                        "ResultConfiguration": {"OutputLocation": _join("s3://", data, "/athena/")}
                    },
                },
            },
            "Workflow": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "mini-dev-workflow",
                    "RoleArn": role,
                    "DefinitionString": json.dumps(definition()),
                    "DefinitionSubstitutions": {
                        "TopicArn": {"Ref": "Topic"},
                        "DataBucket": {"Ref": "Data"},
                    },
                },
            },
            "RawBucket": published(PublishedResource.RAW_BUCKET, data),
            "ResultsBucket": published(PublishedResource.ATHENA_RESULTS_BUCKET, data),
            "GlueDatabase": published(PublishedResource.GLUE_DATABASE, DATABASE),
            "AthenaWorkgroup": published(PublishedResource.ATHENA_WORKGROUP, WORKGROUP),
            "StateMachineArn": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": dataset_parameter_name(
                        project, environment, DATASET, DataSetResource.STATE_MACHINE_ARN
                    ),
                    "Type": "String",
                    "Value": {"Ref": "Workflow"},
                },
            },
        },
    }


def mini_stack(directory: Path, project: str, environment: str) -> StackArtifact:
    """The stack with its two assets written under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "write.py"
    script.write_text(SCRIPT, encoding="utf-8")
    library = directory / "minilib.zip"
    with zipfile.ZipFile(library, "w") as archive:
        archive.writestr("minilib/__init__.py", f"FACTOR = {LIBRARY_FACTOR}\n")
    return StackArtifact(
        name=STACK,
        template=template(project, environment),
        directory=directory,
        account=ACCOUNT,
        region=REGION,
        assets={SCRIPT_URI: script, LIBRARY_URI: library},
    )
