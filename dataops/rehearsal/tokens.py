"""CloudFormation's intrinsic functions, resolved the way a deploy would resolve them.

``Ref`` and ``Fn::GetAtt`` give the physical name or ARN CloudFormation would give a resource:
the name its properties set or, for an auto-named resource, a deterministic one (stack name,
logical id and a short hash, so two rehearsals of the same template agree). ``Fn::Join``,
``Fn::Sub``, ``Fn::Select``, ``Fn::Split`` and the pseudo parameters are evaluated; anything
else is named in a :class:`~dataops.rehearsal.RehearsalError` when a value needs it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dataops.rehearsal import RehearsalError

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")
# The property holding a resource's name, for types whose name is a plain property.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Glue::Job": "Name",
    "AWS::Glue::Crawler": "Name",
    "AWS::Glue::SecurityConfiguration": "Name",
    "AWS::Glue::DataQualityRuleset": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::Athena::WorkGroup": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Events::Rule": "Name",
}
# Types whose name sits in a nested input structure.
NESTED_NAMES: dict[str, tuple[str, str]] = {
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Glue::Table": ("TableInput", "Name"),
}


@dataclass(frozen=True)
class StackContext:
    """What the pseudo parameters resolve to."""

    stack_name: str
    account: str
    region: str
    partition: str = "aws"


class Resolver:
    """Resolves values of one template for one account and region."""

    def __init__(self, template: dict[str, Any], context: StackContext) -> None:
        self._resources: dict[str, dict[str, Any]] = template.get("Resources", {})
        self._parameters: dict[str, dict[str, Any]] = template.get("Parameters", {})
        self.context = context
        self._pseudo = {
            "AWS::Partition": context.partition,
            "AWS::Region": context.region,
            "AWS::AccountId": context.account,
            "AWS::StackName": context.stack_name,
            "AWS::StackId": (
                f"arn:{context.partition}:cloudformation:{context.region}:{context.account}:"
                f"stack/{context.stack_name}/{self._uuid('stack')}"
            ),
            "AWS::URLSuffix": "amazonaws.com",
        }
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self.ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
        }

    def resources_of(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resolved properties, for every resource of ``resource_type``."""
        return {
            logical_id: self.resolve(resource.get("Properties", {}))
            for logical_id, resource in self._resources.items()
            if resource["Type"] == resource_type
        }

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated (``AWS::NoValue`` drops the key)."""
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key in self._functions:
                return self._functions[key](argument)
            if key.startswith("Fn::") or key == "Condition":
                raise RehearsalError(f"{self.context.stack_name}: {key} is not emulated")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _uuid(self, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.context.stack_name}/{name}"))

    def _resource(self, logical_id: str) -> dict[str, Any]:
        try:
            return self._resources[logical_id]
        except KeyError:
            raise RehearsalError(
                f"{self.context.stack_name}: no resource or parameter {logical_id}"
            ) from None

    def physical_name(self, logical_id: str) -> str:
        """The name CloudFormation gives the resource: from its properties, else generated."""
        resource = self._resource(logical_id)
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in NESTED_NAMES:
            outer, inner = NESTED_NAMES[kind]
            return str(self.resolve(properties[outer][inner]))
        if NAME_PROPERTIES.get(kind) in properties:
            return str(self.resolve(properties[NAME_PROPERTIES[kind]]))
        digest = hashlib.sha256(f"{self.context.stack_name}/{logical_id}".encode()).hexdigest()
        stem = f"{self.context.stack_name}-{logical_id}"[:50]
        name = f"{stem}-{digest[:12]}"
        # Bucket names are lower case and at most 63 characters.
        return name.lower() if kind == "AWS::S3::Bucket" else name

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        context = self.context
        region = context.region if regional else ""
        account = "" if service == "s3" else context.account
        return f"arn:{context.partition}:{service}:{region}:{account}:{resource}"

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            if "Default" not in self._parameters[name]:
                raise RehearsalError(f"{self.context.stack_name}: parameter {name} has no default")
            return self._parameters[name]["Default"]
        return self._resource_ref(name)

    def _resource_ref(self, logical_id: str) -> str:
        """What ``Ref`` gives for each type: an ARN, a URL, a key id, else the name."""
        kind = self._resource(logical_id)["Type"]
        context = self.context
        if kind in {"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine"}:
            return self.get_att(logical_id, "Arn")
        if kind == "AWS::KMS::Key":
            return self._uuid(logical_id)
        name = self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{context.region}.amazonaws.com/{context.account}/{name}"
        return name

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = (
            argument.split(".", 1) if isinstance(argument, str) else self.resolve(argument)
        )
        return self.get_att(logical_id, attribute)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resource(logical_id)["Type"]
        name = self.physical_name(logical_id)
        arns = {
            "AWS::S3::Bucket": lambda: self._arn("s3", name, regional=False),
            "AWS::KMS::Key": lambda: self._arn("kms", f"key/{self._uuid(logical_id)}"),
            "AWS::IAM::Role": lambda: self._arn("iam", f"role/{name}", regional=False),
            "AWS::SNS::Topic": lambda: self._arn("sns", name),
            "AWS::SQS::Queue": lambda: self._arn("sqs", name),
            "AWS::StepFunctions::StateMachine": lambda: self._arn("states", f"stateMachine:{name}"),
            "AWS::Logs::LogGroup": lambda: self._arn("logs", f"log-group:{name}:*"),
            "AWS::Lambda::Function": lambda: self._arn("lambda", f"function:{name}"),
        }
        if attribute in {"Arn", "TopicArn"} and kind in arns:
            return arns[kind]()
        if attribute in {"Name", "TopicName", "QueueName"}:
            return name
        if kind == "AWS::S3::Bucket" and attribute in {"DomainName", "RegionalDomainName"}:
            region = f".{self.context.region}" if attribute == "RegionalDomainName" else ""
            return f"{name}.s3{region}.amazonaws.com"
        raise RehearsalError(
            f"{self.context.stack_name}: Fn::GetAtt {logical_id}.{attribute} ({kind}) is not "
            "emulated"
        )

    def _join(self, argument: list[Any]) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(value) for key, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            literal, name = match.groups()
            if literal:
                return "${" + name + "}"
            if name in values:
                return str(values[name])
            if "." in name and name not in self._pseudo:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _select(self, argument: list[Any]) -> Any:
        index, items = self.resolve(argument)
        return items[int(index)]

    def _split(self, argument: list[Any]) -> list[str]:
        delimiter, text = self.resolve(argument)
        return str(text).split(delimiter)
