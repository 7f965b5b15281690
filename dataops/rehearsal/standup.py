"""Standing a synthesized stack's resources up in moto, with the names a deploy would give them.

What the data workflow touches is created, from the template's resolved properties: S3 buckets,
the Glue databases, tables, jobs and crawlers, SNS topics (each with an SQS queue subscribed, so
a scenario can read what was published), Athena workgroups, the published SSM parameters and
the state machines. Everything else (IAM, KMS, alarms, rules, log groups, Lambda) is counted in
``skipped``: a rehearsal proves the workflow's behaviour, not its permissions. A definition
that uses a service integration the rehearsal does not emulate is refused before anything is
created.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dataops.rehearsal import RehearsalError
from dataops.rehearsal.assembly import StackArtifact
from dataops.rehearsal.glue_runner import GlueJob
from dataops.rehearsal.sfn_patches import unemulated_integrations
from dataops.rehearsal.tokens import Resolver, StackContext

BUCKET = "AWS::S3::Bucket"
DATABASE = "AWS::Glue::Database"
TABLE = "AWS::Glue::Table"
JOB = "AWS::Glue::Job"
CRAWLER = "AWS::Glue::Crawler"
TOPIC = "AWS::SNS::Topic"
WORKGROUP = "AWS::Athena::WorkGroup"
PARAMETER = "AWS::SSM::Parameter"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
STOOD_UP_TYPES = (BUCKET, DATABASE, TABLE, JOB, CRAWLER, TOPIC, WORKGROUP, PARAMETER, STATE_MACHINE)
# CloudFormation properties of a Glue job and a crawler that their create APIs take as is.
JOB_PROPERTIES = (
    "Description",
    "Role",
    "Command",
    "DefaultArguments",
    "NonOverridableArguments",
    "ExecutionProperty",
    "MaxRetries",
    "Timeout",
    "MaxCapacity",
    "WorkerType",
    "NumberOfWorkers",
    "SecurityConfiguration",
    "GlueVersion",
    "ExecutionClass",
)
CRAWLER_PROPERTIES = (
    "Role",
    "DatabaseName",
    "Description",
    "Targets",
    "Classifiers",
    "TablePrefix",
    "SchemaChangePolicy",
    "RecrawlPolicy",
    "Configuration",
    "CrawlerSecurityConfiguration",
)


@dataclass(frozen=True)
class StateMachine:
    name: str
    arn: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class StoodUp:
    """What was created in moto, by the names it was created with."""

    buckets: tuple[str, ...]
    databases: tuple[str, ...]
    glue_jobs: dict[str, GlueJob]
    crawlers: tuple[str, ...]
    topic_queues: dict[str, str]
    parameters: dict[str, str]
    state_machines: tuple[StateMachine, ...]
    skipped: dict[str, int]


def _pick(properties: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


def _definition(resolver: Resolver, properties: dict[str, Any]) -> dict[str, Any]:
    """The state machine's definition as deployed: tokens resolved, substitutions applied."""
    if "Definition" in properties:
        return properties["Definition"]
    if "DefinitionString" not in properties:
        raise RehearsalError(
            f"{resolver.context.stack_name}: a state machine's definition is not in the "
            "template (DefinitionS3Location is not emulated)"
        )
    text = str(properties["DefinitionString"])
    for key, value in properties.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + key + "}", str(value))
    return json.loads(text)


def _state_machines(resolver: Resolver) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, resolved properties, definition) of each state machine, refusing a definition
    that uses an integration the rehearsal does not emulate."""
    machines = []
    for logical_id, properties in resolver.resources_of(STATE_MACHINE).items():
        name = resolver.physical_name(logical_id)
        definition = _definition(resolver, properties)
        problems = unemulated_integrations(definition)
        if problems:
            raise RehearsalError(
                f"state machine {name}: {problems[0]} is a service integration the rehearsal "
                "does not emulate; fix: emulate it in dataops/rehearsal or leave it out"
            )
        machines.append((name, properties, definition))
    return machines


def stand_up(stack: StackArtifact, client: Callable[[str], Any]) -> StoodUp:
    """Create the stack's resources in moto through ``client`` (boto3 client by service)."""
    resolver = Resolver(stack.template, StackContext(stack.name, stack.account, stack.region))
    machines = _state_machines(resolver)

    buckets = []
    for logical_id in resolver.resources_of(BUCKET):
        name = resolver.physical_name(logical_id)
        client("s3").create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": stack.region}
        )
        buckets.append(name)

    glue = client("glue")
    databases = []
    for properties in resolver.resources_of(DATABASE).values():
        glue.create_database(DatabaseInput=properties["DatabaseInput"])
        databases.append(properties["DatabaseInput"]["Name"])
    for properties in resolver.resources_of(TABLE).values():
        glue.create_table(
            DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"]
        )

    jobs = {}
    for logical_id, properties in resolver.resources_of(JOB).items():
        name = resolver.physical_name(logical_id)
        script_uri = properties["Command"]["ScriptLocation"]
        if script_uri not in stack.assets:
            raise RehearsalError(
                f"Glue job {name}: its script {script_uri} is not an asset of the cloud "
                "assembly; fix: make the script a CDK asset"
            )
        glue.create_job(Name=name, **_pick(properties, JOB_PROPERTIES))
        jobs[name] = GlueJob(name, properties["Command"]["Name"], stack.assets[script_uri])

    crawlers = []
    for logical_id, properties in resolver.resources_of(CRAWLER).items():
        name = resolver.physical_name(logical_id)
        schedule = properties.get("Schedule", {}).get("ScheduleExpression")
        glue.create_crawler(
            Name=name,
            **_pick(properties, CRAWLER_PROPERTIES),
            **({"Schedule": schedule} if schedule else {}),
        )
        crawlers.append(name)

    sns, sqs = client("sns"), client("sqs")
    topic_queues = {}
    for logical_id, properties in resolver.resources_of(TOPIC).items():
        name = resolver.physical_name(logical_id)
        display = {"DisplayName": properties["DisplayName"]} if "DisplayName" in properties else {}
        arn = sns.create_topic(Name=name, Attributes=display)["TopicArn"]
        queue_url = sqs.create_queue(QueueName=f"rehearsal-{name}"[:80])["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
        topic_queues[arn] = queue_url

    for logical_id, properties in resolver.resources_of(WORKGROUP).items():
        client("athena").create_work_group(
            Name=resolver.physical_name(logical_id),
            Configuration=properties.get("WorkGroupConfiguration", {}),
            Description=properties.get("Description", ""),
        )

    state_machines = []
    for name, properties, definition in machines:
        arn = client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=properties["RoleArn"],
            type=properties.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        state_machines.append(StateMachine(name, arn, definition))

    parameters = {}
    for logical_id, properties in resolver.resources_of(PARAMETER).items():
        name = resolver.physical_name(logical_id)
        client("ssm").put_parameter(
            Name=name,
            Value=str(properties["Value"]),
            Type=properties.get("Type", "String"),
            Description=properties.get("Description", ""),
        )
        parameters[name] = str(properties["Value"])

    types = Counter(resource["Type"] for resource in stack.template.get("Resources", {}).values())
    return StoodUp(
        buckets=tuple(buckets),
        databases=tuple(databases),
        glue_jobs=jobs,
        crawlers=tuple(crawlers),
        topic_queues=topic_queues,
        parameters=parameters,
        state_machines=tuple(state_machines),
        skipped={
            kind: count for kind, count in sorted(types.items()) if kind not in STOOD_UP_TYPES
        },
    )
