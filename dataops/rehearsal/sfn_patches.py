"""Moto 5.2.5's Step Functions interpreter, with the gaps a data workflow falls into closed.

Each patch is as narrow as the gap and only active inside :func:`patched_interpreter`:

- ``glue:startJobRun.sync`` always ended in ``States.Runtime``: moto's ``.sync`` path calls
  ``interrupt_all()`` on a task-token endpoint that integrations without task tokens do not
  have (``None``). :class:`SyncWithoutTaskToken` is the same path without that endpoint.
- ``athena`` is in moto's unsupported set; :class:`AthenaIntegration` is the optimized Athena
  integration (request-response and ``startQueryExecution.sync``) over moto's Athena API.
- AWS SDK integrations named errors ``glue.X`` where AWS says ``Glue.XException`` (Pascal-cased
  service): a ``Catch`` on ``Glue.CrawlerRunningException`` never matched.
- A ``Fail`` state whose ``ErrorPath`` holds a caught ``States.`` error (``States.TaskFailed``)
  and a Parallel state passing on such an error from a branch raised ``ValueError`` (custom
  error names must not start with ``States.``), so the execution failed with ``States.Runtime``
  instead of the error; those two now pass the error on as it is.
- AWS SDK integrations returned a streamed body (S3 ``GetObject``'s ``Body``) as the text
  ``<botocore.response.StreamingBody object at ...>``: moto leaves out the response
  normalisation that reads it, so ``States.StringToJson($.Body)`` failed. The body is now its
  text, as Step Functions returns a text object's body.
- An intrinsic function was parsed from the definition's JSON text with its JSON escapes
  still in (``\\'`` for the ``\'`` of ``States.Format('it\\'s {}', ...)``, ``\"`` for ``"``),
  and ``\'`` and ``\\`` were kept in its string literals: the data checks' queries (quoted
  rule names) and the refused execution name's message came out broken, with ANTLR errors on
  stderr. Intrinsic functions are now parsed from the decoded string, and their literals
  unescaped as Step Functions documents (``\'``, ``\\``).
- Task results kept the SDK's ``datetime`` values (GetCrawler's ``CreationTime``), so
  ``DescribeExecution`` of an execution that carried one to its end failed with a TypeError;
  a task's result is now JSON, timestamps as ISO-8601 text, as Step Functions passes it on.
- Not gaps but time: moto parses a definition with ANTLR when it is created and again at every
  execution (about half a second for the data workflow's), and builds a new boto3 client for
  every task it runs (tens of milliseconds, more than the call). Syntax trees are now kept, a
  process long (the evaluation components are still built afresh for each execution), and one
  client a service and region serves every task (botocore clients are thread-safe; moto's
  clients all carry the same fake credentials).
- ``Wait`` states and ``Retry`` intervals really slept; they are scaled down by ``time_scale``,
  and still appear, in order and number, in the execution history.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Final
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringIntrinsicFunction,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import (
    StateCredentials,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_glue,
    state_task_service_sns,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
    ResourceRuntimePart,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import (  # noqa: E501
    StateTaskServiceGlue,
)
from moto.stepfunctions.parser.asl.component.state.fail import state_fail
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.intrinsic import preprocessor as intrinsic_preprocessor
from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.static_analyser.intrinsic.variable_names_intrinsic_static_analyser import (  # noqa: E501
    VariableNamesIntrinsicStaticAnalyser,
)
from moto.stepfunctions.parser.asl.static_analyser.variable_references_static_analyser import (
    VariableReferencesStaticAnalyser,
)
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from dataops.rehearsal.execution import all_states

# The task resources the rehearsal runs: optimized integrations by service, and the services
# whose APIs the stood-up resources answer through AWS SDK integrations.
OPTIMIZED_INTEGRATIONS: Final[dict[str, frozenset[str]]] = {
    "glue": frozenset({"startJobRun", "startJobRun.sync"}),
    "athena": frozenset(
        {
            "startQueryExecution",
            "startQueryExecution.sync",
            "getQueryExecution",
            "getQueryResults",
            "stopQueryExecution",
        }
    ),
    "sns": frozenset({"publish"}),
}
AWS_SDK_SERVICES: Final[frozenset[str]] = frozenset(
    {"athena", "cloudwatch", "glue", "s3", "sns", "sqs", "ssm"}
)
# "ServiceName.ErrorName, both in Pascal case" (Step Functions' AWS SDK integration docs), for
# the services above that moto does not name already.
AWS_SDK_ERROR_PREFIXES: Final[dict[str, str]] = {
    "athena": "Athena",
    "cloudwatch": "CloudWatch",
    "glue": "Glue",
    "s3": "S3",
}
_RESOURCE_PREFIX = ":states:::"
_ATHENA_PARAMETERS: Final[dict[str, set[str]]] = {
    "startqueryexecution": {
        "QueryString",
        "ClientRequestToken",
        "QueryExecutionContext",
        "ResultConfiguration",
        "WorkGroup",
        "ExecutionParameters",
        "ResultReuseConfiguration",
    },
    "getqueryexecution": {"QueryExecutionId"},
    "getqueryresults": {"QueryExecutionId", "MaxResults", "NextToken"},
    "stopqueryexecution": {"QueryExecutionId"},
}
_ATHENA_RUNNING = frozenset({"QUEUED", "RUNNING"})


def unemulated_integrations(definition: dict[str, Any]) -> list[str]:
    """One ``state: resource`` entry for each task resource the rehearsal cannot run."""
    problems = []
    for name, state in all_states(definition).items():
        resource = state.get("Resource") if state.get("Type") == "Task" else None
        if not isinstance(resource, str):
            continue
        _, found, integration = resource.partition(_RESOURCE_PREFIX)
        service, _, action = integration.partition(":")
        if found and service == "aws-sdk":
            sdk_service, _, sdk_action = action.partition(":")
            if sdk_service in AWS_SDK_SERVICES and "." not in sdk_action:
                continue
        elif found and action in OPTIMIZED_INTEGRATIONS.get(service, ()):
            continue
        problems.append(f"{name}: {resource}")
    return problems


class SyncWithoutTaskToken(StateTaskServiceCallback):
    """The ``.sync`` path of moto's callback services, for services without task tokens."""

    def _eval_integration_pattern(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict,
        state_credentials: StateCredentials,
    ) -> None:
        task_output = env.stack.pop()
        self.timeout.eval(env=env)
        timeout_seconds = env.stack.pop()
        # The sync resolver reads the start call's output from the stack.
        env.stack.append(task_output)
        resolver = self._build_sync_resolver(
            env=env,
            resource_runtime_part=resource_runtime_part,
            normalised_parameters=normalised_parameters,
            state_credentials=state_credentials,
        )
        outcome = self._eval_sync(
            env=env,
            sync_resolver=resolver,
            timeout_seconds=timeout_seconds,
            callback_endpoint=None,
            heartbeat_endpoint=None,
        )
        env.stack.append(outcome)


class GlueIntegration(SyncWithoutTaskToken, StateTaskServiceGlue):
    """Moto's Glue integration with a ``.sync`` path that can succeed."""


class AthenaIntegration(SyncWithoutTaskToken):
    """The optimized Athena integration: the call itself, and for
    ``startQueryExecution.sync`` polling ``GetQueryExecution`` until the query ends; a query
    that fails or is cancelled fails the task with the query execution as the cause."""

    def __init__(self) -> None:
        super().__init__(supported_integration_patterns={ResourceCondition.Sync})

    def _get_supported_parameters(self) -> set[str] | None:
        return _ATHENA_PARAMETERS.get(self.resource.api_action.lower())

    def _from_error(self, env: Environment, ex: Exception) -> FailureEvent:
        if isinstance(ex, ClientError):
            code = ex.response["Error"]["Code"]
            error = f"Athena.{code if code.endswith('Exception') else code + 'Exception'}"
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=error,
                        cause=ex.response["Error"]["Message"],
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict,
        state_credentials: StateCredentials,
    ) -> None:
        client = _shared_client(region=resource_runtime_part.region, service="athena")
        response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(response)

    def _build_sync_resolver(
        self,
        env: Environment,
        resource_runtime_part: ResourceRuntimePart,
        normalised_parameters: dict,
        state_credentials: StateCredentials,
    ) -> Callable[[], Any]:
        query_id = env.stack.pop()["QueryExecutionId"]
        client = _shared_client(region=resource_runtime_part.region, service="athena")

        def resolve() -> dict[str, Any] | None:
            response = client.get_query_execution(QueryExecutionId=query_id)
            response.pop("ResponseMetadata", None)
            state = response["QueryExecution"]["Status"]["State"]
            if state in _ATHENA_RUNNING:
                return None
            if state == "SUCCEEDED":
                return response
            failed = StatesErrorNameType.StatesTaskFailed
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=failed),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=failed.to_name(),
                            cause=to_json_str(response),
                        )
                    ),
                )
            )

        return resolve


def _service_for(original: Callable[[str], StateTaskService]) -> Callable[[str], StateTaskService]:
    def service_for(service_name: str) -> StateTaskService:
        if service_name == "glue":
            return GlueIntegration()
        if service_name == "athena":
            return AthenaIntegration()
        return original(service_name)

    return service_for


def _json_results(
    original: Callable[..., None],
) -> Callable[..., None]:
    def after_eval_execution(
        self: StateTaskService, env: Environment, *args: Any, **kw: Any
    ) -> None:
        env.stack[-1] = json.loads(to_json_str(env.stack[-1]))
        original(self, env, *args, **kw)

    return after_eval_execution


def _read_bodies(original: Callable[..., None]) -> Callable[..., None]:
    def eval_service_task(self: StateTaskService, env: Environment, *args: Any, **kw: Any) -> None:
        original(self, env, *args, **kw)
        response = env.stack[-1]
        if isinstance(response, dict):
            for key, value in response.items():
                if isinstance(value, StreamingBody):
                    response[key] = value.read().decode("utf-8")

    return eval_service_task


def _parsed_intrinsic_function(_self: Preprocessor, ctx: Any) -> StringIntrinsicFunction:
    """The intrinsic function of a ``"States.X(...)"`` string: its JSON escapes decoded first."""
    derivation = json.loads(ctx.STRINGINTRINSICFUNC().getText())
    function, _ = IntrinsicParser.parse(derivation)
    return StringIntrinsicFunction(intrinsic_function_derivation=derivation, function=function)


def _variables_of_intrinsic_function(self: VariableReferencesStaticAnalyser, ctx: Any) -> None:
    """The variable-reference analyser's look at an intrinsic function, on the decoded string."""
    for name in VariableNamesIntrinsicStaticAnalyser.process_and_get(json.loads(ctx.getText())):
        self._put_variable_name(name)


def _unescaped(match: re.Match[str]) -> str:
    """An escape in an intrinsic function's string literal: ``\\'`` and ``\\\\`` stand for the
    character; others as moto reads them."""
    if match.group(1) in ("'", "\\"):
        return match.group(1)
    return _replace_escaped_characters(match)


_replace_escaped_characters = intrinsic_preprocessor.Preprocessor._replace_escaped_characters
_TREES: dict[str, Any] = {}
_parse = AmazonStateLanguageParser.parse
_CLIENTS: dict[tuple[str, str], BaseClient] = {}


def _parse_once(definition: str) -> tuple[Any, Any]:
    if definition not in _TREES:
        program, _TREES[definition] = _parse(definition)
        return program, _TREES[definition]
    return Preprocessor().visit(_TREES[definition]), _TREES[definition]


def _shared_client(region: str, service: str, state_credentials: Any = None) -> BaseClient:
    """moto's ``boto_client_for``, one client a service and region (it ignores
    ``state_credentials`` too)."""
    if (region, service) not in _CLIENTS:
        _CLIENTS[(region, service)] = boto_client.boto_client_for(region=region, service=service)
    return _CLIENTS[(region, service)]


def _passed_on_error_name(error_name: str | None) -> ErrorName:
    """The error a Fail state or a Parallel state raises again: a ``States.`` error stays one."""
    if error_name and error_name.startswith("States."):
        return StatesErrorName.from_name(error_name)
    return CustomErrorName(error_name)


class _ScaledSleep:
    """``time`` as moto's retrier uses it (only ``sleep``), shortened by ``scale``."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self._scale)


def _scaled_wait(scale: float) -> Callable[[WaitFunction, Environment, int], None]:
    def wait_interval(_self: WaitFunction, env: Environment, wait_seconds: int) -> None:
        # Stopping the execution sets the event, which ends the wait early, as in moto.
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)

    return wait_interval


@contextmanager
def patched_interpreter(time_scale: float) -> Iterator[None]:
    """Moto's interpreter with the gaps above closed, Wait and Retry times x ``time_scale``."""
    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(
                state_task_factory,
                "state_task_service_for",
                _service_for(state_task_factory.state_task_service_for),
            )
        )
        stack.enter_context(
            mock.patch.dict(state_task_service_aws_sdk._SERVICE_ERROR_NAMES, AWS_SDK_ERROR_PREFIXES)
        )
        aws_sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
        stack.enter_context(
            mock.patch.object(
                aws_sdk, "_eval_service_task", _read_bodies(aws_sdk._eval_service_task)
            )
        )
        stack.enter_context(
            mock.patch.object(
                StateTaskService,
                "_after_eval_execution",
                _json_results(StateTaskService._after_eval_execution),
            )
        )
        stack.enter_context(
            mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_parse_once))
        )
        for module in (state_task_service_aws_sdk, state_task_service_glue, state_task_service_sns):
            stack.enter_context(mock.patch.object(module, "boto_client_for", _shared_client))
        stack.enter_context(
            mock.patch.object(
                Preprocessor, "visitString_intrinsic_function", _parsed_intrinsic_function
            )
        )
        stack.enter_context(
            mock.patch.object(
                VariableReferencesStaticAnalyser,
                "visitString_intrinsic_function",
                _variables_of_intrinsic_function,
            )
        )
        stack.enter_context(
            mock.patch.object(
                intrinsic_preprocessor.Preprocessor,
                "_replace_escaped_characters",
                staticmethod(_unescaped),
            )
        )
        for module in (state_fail, branches_decl):
            stack.enter_context(mock.patch.object(module, "CustomErrorName", _passed_on_error_name))
        stack.enter_context(mock.patch.object(retrier_decl, "time", _ScaledSleep(time_scale)))
        stack.enter_context(
            mock.patch.object(WaitFunction, "_wait_interval", _scaled_wait(time_scale))
        )
        yield
