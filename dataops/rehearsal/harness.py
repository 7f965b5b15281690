"""``Rehearsal``: one environment stood up in moto, and what a scenario does with it.

Inside ``with Rehearsal(...) as rehearsal:`` moto holds the environment's resources in its own
account and region, Step Functions executions really run (moto's interpreter, patched), Glue
job runs execute their scripts, Athena queries run on DuckDB, and the local ``awsglue``
stand-in is importable. A scenario puts raw objects in, arms faults (``rehearsal.faults``),
runs executions and asserts on their history, the SNS messages and table contents; the
environment's own ``integration-test`` command can run against it too.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest import mock

import boto3
from botocore.loaders import JSONFileLoader
from moto import mock_aws
from moto.s3.models import s3_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.utilities.utils import get_partition

from dataops.integration.athena import AthenaTarget, Row, run_query
from dataops.integration.pacing import Pacing
from dataops.project import Project
from dataops.rehearsal import RehearsalError
from dataops.rehearsal.assembly import StackArtifact
from dataops.rehearsal.athena_duckdb import AthenaEngine
from dataops.rehearsal.execution import ExecutionResult
from dataops.rehearsal.faults import Faults
from dataops.rehearsal.glue_runner import GlueRunner
from dataops.rehearsal.s3_mirror import S3Mirror
from dataops.rehearsal.sfn_patches import patched_interpreter
from dataops.rehearsal.standup import StateMachine, StoodUp, stand_up
from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    dataset_parameter_name,
    parameter_name,
)

INTERPRETER_LOGGER = "moto.stepfunctions.parser"
STANDIN_PATH = Path(__file__).resolve().parent / "glue_standin"
RESULTS_PREFIX = "rehearsal/"
# Between looks at a running execution or query: often enough not to wait, seldom enough
# not to take the interpreter lock from the Glue job runs' Spark calls. integration-test
# prints a line a look at its workflow, so it looks once a second.
_POLL_SECONDS = 0.2
_INTEGRATION_TEST_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class RehearsalOptions:
    """``time_scale``: real seconds a Wait or Retry second takes; ``crawl_polls``: looks at
    the crawler that still find a started crawl running; ``execution_timeout_seconds``: the
    longest real wait for one execution before it is stopped."""

    time_scale: float = 0.001
    crawl_polls: int = 1
    execution_timeout_seconds: float = 900.0


@dataclass(frozen=True)
class SnsMessage:
    """A message as an SQS queue subscribed to the topic received it."""

    topic_arn: str
    subject: str | None
    message: str


class Rehearsal:
    """The environment ``environment`` of ``project`` from its synthesized ``stack``.

    ``work_dir`` holds the S3 mirror and whatever a scenario generates; ``spark`` is called
    once, before the first Spark job run, and must leave the local SparkSession the runs use
    active (the tests' shared one, or one the command starts).
    """

    def __init__(
        self,
        project: Project,
        environment: str,
        stack: StackArtifact,
        *,
        work_dir: Path,
        spark: Callable[[], object],
        options: RehearsalOptions | None = None,
    ) -> None:
        self.project = project
        self.environment = environment
        self.stack = stack
        self.options = options or RehearsalOptions()
        self.faults = Faults()
        self.work_dir = work_dir
        self._spark = spark
        self._exit = ExitStack()
        self._messages: list[SnsMessage] = []

    def __enter__(self) -> Rehearsal:
        stack = self._exit
        try:
            stack.enter_context(
                mock.patch.dict(
                    os.environ,
                    {
                        "MOTO_ACCOUNT_ID": self.stack.account,
                        "AWS_DEFAULT_REGION": self.stack.region,
                    },
                )
            )
            stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
            stack.enter_context(mock.patch.object(JSONFileLoader, "load_file", _load_file_once))
            stack.enter_context(patched_interpreter(self.options.time_scale))
            # The interpreter logs every error it handles (a Choice's IsPresent on a missing
            # path included); what matters is in the execution history.
            interpreter_log = logging.getLogger(INTERPRETER_LOGGER)
            stack.callback(interpreter_log.setLevel, interpreter_log.level)
            interpreter_log.setLevel(logging.CRITICAL)
            stack.enter_context(mock.patch.object(sys, "path", [str(STANDIN_PATH), *sys.path]))
            stack.callback(_forget_module, "awsglue")
            s3 = s3_backends[self.stack.account][get_partition(self.stack.region)]
            self.mirror = S3Mirror(s3, self.work_dir / "s3")
            self.resources: StoodUp = stand_up(self.stack, self.client)
            runner = GlueRunner(
                jobs=self.resources.glue_jobs,
                assets=self.stack.assets,
                mirror=self.mirror,
                faults=self.faults,
                spark=self._spark,
                crawl_polls=self.options.crawl_polls,
            )
            stack.enter_context(runner.patched())
            engine = AthenaEngine(self.client("glue"), self.mirror, self.faults)
            stack.enter_context(engine.patched())
        except BaseException:
            stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._exit.close()

    def client(self, service: str) -> Any:
        """A boto3 client of moto's ``service`` in the environment's region, made once a
        process: clients reach whichever moto is running when they call."""
        key = (service, self.stack.region)
        if key not in _CLIENTS:
            _CLIENTS[key] = boto3.client(service, region_name=self.stack.region)
        return _CLIENTS[key]

    def published(self, resource: PublishedResource) -> str:
        """A name the stack publishes for the post-deploy checks (its SSM parameter's value)."""
        name = parameter_name(self.project.config.project, self.environment, resource)
        if name not in self.resources.parameters:
            raise RehearsalError(f"{self.stack.name}: publishes no SSM parameter {name}")
        return self.resources.parameters[name]

    def glue_job(self, name: str) -> str:
        """The deployed Glue job named ``name`` or ending in ``-<name>`` (a job-graph name)."""
        jobs = self.resources.glue_jobs
        matches = [job for job in jobs if job == name or job.endswith(f"-{name}")]
        if len(matches) != 1:
            raise RehearsalError(f"{self.stack.name}: {len(matches)} Glue jobs match {name}")
        return matches[0]

    def put_raw_objects(self, directory: Path, files: Iterable[Path] | None = None) -> list[str]:
        """Upload ``files`` (default: every file under ``directory``) to the raw bucket, keys as
        their paths relative to ``directory`` (``AWSLogs/...`` for generated data); return the
        keys."""
        bucket = self.published(PublishedResource.RAW_BUCKET)
        s3 = self.client("s3")
        keys = []
        chosen = directory.rglob("*") if files is None else files
        for path in sorted(path for path in chosen if path.is_file()):
            key = path.relative_to(directory).as_posix()
            s3.upload_file(str(path), bucket, key)
            keys.append(key)
        return keys

    def state_machine(self, dataset: str) -> StateMachine:
        """The state machine whose ARN the stack publishes for ``dataset`` (the one
        integration-test and the day-two commands run)."""
        project = self.project.config.project
        name = dataset_parameter_name(
            project, self.environment, dataset, DataSetResource.STATE_MACHINE_ARN
        )
        if name not in self.resources.parameters:
            raise RehearsalError(f"{self.stack.name}: publishes no SSM parameter {name}")
        arn = self.resources.parameters[name]
        return next(machine for machine in self.resources.state_machines if machine.arn == arn)

    def run_execution(
        self,
        dataset: str,
        execution_input: dict[str, Any] | None = None,
        *,
        name: str | None = None,
    ) -> ExecutionResult:
        """Start an execution of ``dataset``'s state machine, wait until it ends (stopping it
        past the timeout) and return it."""
        machine = self.state_machine(dataset)
        sfn = self.client("stepfunctions")
        # Named always: moto's interpreter leaves an unnamed execution's name None.
        arn = sfn.start_execution(
            stateMachineArn=machine.arn,
            input=json.dumps(execution_input or {}),
            name=name or f"rehearsal-{uuid.uuid4().hex[:12]}",
        )["executionArn"]
        deadline = time.monotonic() + self.options.execution_timeout_seconds
        # Waiting reads moto's backend: a DescribeExecution a poll cost more CPU than it waits.
        backend = stepfunctions_parser_backends[self.stack.account][self.stack.region]
        while backend.describe_execution(arn).status == "RUNNING":
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=arn, error="RehearsalTimeout")
                break
            time.sleep(_POLL_SECONDS)
        described = sfn.describe_execution(executionArn=arn)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        return ExecutionResult(
            arn=arn,
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            events=tuple(event for page in pages for event in page["events"]),
            definition=machine.definition,
        )

    def messages(self) -> list[SnsMessage]:
        """Every message published to the stack's topics so far, in order of arrival."""
        sqs = self.client("sqs")
        for topic_arn, queue_url in self.resources.topic_queues.items():
            while received := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                for message in received:
                    body = json.loads(message["Body"])
                    self._messages.append(
                        SnsMessage(topic_arn, body.get("Subject"), body["Message"])
                    )
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return list(self._messages)

    def query(self, sql: str) -> list[Row]:
        """Rows of ``sql`` (Trino) run through the environment's Athena workgroup."""
        target = AthenaTarget(
            database=self.published(PublishedResource.GLUE_DATABASE),
            workgroup=self.published(PublishedResource.ATHENA_WORKGROUP),
            output_location=(
                f"s3://{self.published(PublishedResource.ATHENA_RESULTS_BUCKET)}/{RESULTS_PREFIX}"
            ),
            timeout_seconds=60.0,
            poll_seconds=_POLL_SECONDS,
        )
        return run_query(self.client("athena"), target, sql, Pacing(echo=lambda _: None))

    def integration_test(self) -> int:
        """``python -m dataops integration-test --env <environment>`` against the rehearsal,
        polling faster than against AWS (nothing here takes long); its exit code."""
        from dataops import cli

        return cli.main(
            [
                "integration-test",
                "--env",
                self.environment,
                "--poll-seconds",
                str(_INTEGRATION_TEST_POLL_SECONDS),
                "--query-poll-seconds",
                str(_POLL_SECONDS),
                "--root",
                str(self.project.root),
            ]
        )


_CLIENTS: dict[tuple[str, str], Any] = {}
_LOADED: dict[str, Any] = {}
_load_file = JSONFileLoader.load_file


def _load_file_once(loader: JSONFileLoader, file_path: str) -> Any:
    """botocore's service models, read once a process: moto gives each rehearsal a new boto3
    session and integration-test makes its own, and each new session read every model it used
    again (seconds of JSON a rehearsal). Sessions share the loaded models as one session's
    clients do."""
    if file_path not in _LOADED:
        _LOADED[file_path] = _load_file(loader, file_path)
    return _LOADED[file_path]


def _forget_module(package: str) -> None:
    for name in [name for name in sys.modules if name.partition(".")[0] == package]:
        del sys.modules[name]
