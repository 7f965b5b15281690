"""One branch of a data set's data checks: a table's contract rules on Athena, over exactly the
``dt`` partitions this run wrote.

The branch reads the producing job's run record, skips the table when the run wrote none of
its partitions (``dt_sql`` empty or absent), else runs the contract's violations query with a
``dt IN (<dt_sql>)`` filter on every rule. Athena reads the projected partitions the jobs
write (Glue Data Quality would only see catalogued ones). A query that returns a row (a broken
rule) fails the branch with ``DataContractViolated``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from dataops.contracts import Contract
from dataops.datasets import CONTRACTS_DIR
from stacks.data_workflow.data_quality import contract_rules, violations_query
from stacks.data_workflow.names import pascal
from stacks.data_workflow.run_records import RECORD, read_run_record

CONTRACT_VIOLATED = "DataContractViolated"
# Where a branch keeps the producer's run record.
PRODUCER = "$.producer"


@dataclass(frozen=True)
class CheckedTable:
    """A table with contract rules, and the job of its data set's graph that writes it."""

    dataset: str
    contract: Contract
    producer: str


@dataclass(frozen=True)
class CheckTarget:
    """Where the checks read records and run queries."""

    curated_bucket: s3.IBucket
    database_name: str
    workgroup_name: str
    workgroup_arn: str


def _partitions_path(table: str) -> str:
    return f"{PRODUCER}.{RECORD}.tables.{table}.dt_sql"


def check_branch(scope: Construct, table: CheckedTable, target: CheckTarget) -> sfn.IChainable:
    """Read the record, then query the written partitions, or skip the table."""
    contract = table.contract
    name = pascal(contract.name)
    partitions = _partitions_path(contract.name)
    read = read_run_record(
        scope,
        f"Read{name}RunRecord",
        bucket=target.curated_bucket,
        dataset=table.dataset,
        job=table.producer,
        result_path=PRODUCER,
    )
    query = sfn.CustomState(
        scope,
        f"Query{name}",
        state_json={
            "Type": "Task",
            "Resource": f"arn:{cdk.Aws.PARTITION}:states:::athena:startQueryExecution.sync",
            "Parameters": {
                "QueryString.$": sfn.JsonPath.format(
                    violations_query(contract, "{}"),
                    *[sfn.JsonPath.string_at(partitions)] * len(contract_rules(contract)),
                ),
                "WorkGroup": target.workgroup_name,
                "QueryExecutionContext": {"Database": target.database_name},
            },
            "ResultSelector": {"id.$": "$.QueryExecution.QueryExecutionId"},
            "ResultPath": "$.query",
        },
    )
    query.add_retry(
        errors=["Athena.TooManyRequestsException"],
        interval=cdk.Duration.seconds(10),
        max_attempts=5,
        backoff_rate=2,
    )
    results = tasks.CallAwsService(
        scope,
        f"Read{name}Violations",
        service="athena",
        action="getQueryResults",
        parameters={"QueryExecutionId": sfn.JsonPath.string_at("$.query.id"), "MaxResults": 2},
        iam_resources=[target.workgroup_arn],
        result_selector={"rows": sfn.JsonPath.list_at("$.ResultSet.Rows")},
        result_path="$.result",
    )
    # The first row holds the column names; a second one is a broken rule.
    verdict = (
        sfn.Choice(scope, f"{name}Passes?")
        .when(
            sfn.Condition.is_present("$.result.rows[1]"),
            sfn.Fail(
                scope,
                f"{name}BreaksContract",
                error=CONTRACT_VIOLATED,
                cause=f"{contract.name} breaks rules of "
                f"{CONTRACTS_DIR / table.dataset / contract.name}.yaml in the partitions this "
                "run wrote; see the Athena query results of this execution",
            ),
        )
        .otherwise(sfn.Succeed(scope, f"{name}Passed"))
    )
    written = (
        sfn.Choice(scope, f"{name}Written?")
        .when(
            sfn.Condition.and_(
                sfn.Condition.is_present(partitions),
                sfn.Condition.not_(sfn.Condition.string_equals(partitions, "")),
            ),
            query.next(results).next(verdict),
        )
        .otherwise(sfn.Succeed(scope, f"{name}NotWritten"))
    )
    return read.next(written)
