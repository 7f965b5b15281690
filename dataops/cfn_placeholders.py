"""CloudFormation intrinsics rendered into realistic placeholder values.

A policy linter reads ARNs: it matches ``arn:aws:s3:::bucket/*`` against the object resource
type of ``s3:GetObject``. In a synthesized template the same resource is
``{"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}``. Rendering each reference
into a value of the shape CloudFormation would return for the referenced resource's type (a
bucket's ARN, a key's ARN, a topic's ARN for its ``Ref``) lets the linter check it like a
literal instead of skipping it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NO_VALUE = object()


class UnrenderableError(ValueError):
    """A template value this module cannot turn into a placeholder."""


@dataclass(frozen=True)
class StackContext:
    """What intrinsics resolve against: the template and where its stack deploys."""

    template: Mapping[str, Any]
    account: str
    region: str
    stack_name: str

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"


@dataclass(frozen=True)
class Placeholder:
    """How one resource type answers ``Ref`` and ``Fn::GetAtt``, from its physical name."""

    name_property: str | None
    ref: Callable[[StackContext, str], str]
    attributes: Mapping[str, Callable[[StackContext, str], str]]
    lower_case: bool = False


def _name(_: StackContext, name: str) -> str:
    return name


def _uuid(context: StackContext, name: str) -> str:
    """A stable id for resources CloudFormation identifies by one (a key, a repository)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{context.stack_name}/{name}"))


def _key_arn(context: StackContext, name: str) -> str:
    return context.arn("kms", f"key/{_uuid(context, name)}")


def _bucket_arn(context: StackContext, name: str) -> str:
    return f"arn:{context.partition}:s3:::{name}"


def _role_arn(context: StackContext, name: str) -> str:
    return context.arn("iam", f"role/{name}", regional=False)


def _regional(service: str, resource: str) -> Callable[[StackContext, str], str]:
    """An ARN ``arn:<partition>:<service>:<region>:<account>:<resource with the name>``."""
    return lambda context, name: context.arn(service, resource.format(name=name))


def _queue_url(context: StackContext, name: str) -> str:
    return f"https://sqs.{context.region}.amazonaws.com/{context.account}/{name}"


_TOPIC_ARN = _regional("sns", "{name}")
_STATE_MACHINE_ARN = _regional("states", "stateMachine:{name}")
_REPORT_GROUP_ARN = _regional("codebuild", "report-group/{name}")

# Each resource type the stacks' policies refer to. A reference to any other type fails with
# an error naming it: add the type here, with what CloudFormation returns for it.
PLACEHOLDERS: Mapping[str, Placeholder] = {
    "AWS::S3::Bucket": Placeholder("BucketName", _name, {"Arn": _bucket_arn}, lower_case=True),
    "AWS::KMS::Key": Placeholder(None, _uuid, {"Arn": _key_arn, "KeyId": _uuid}),
    "AWS::IAM::Role": Placeholder("RoleName", _name, {"Arn": _role_arn}),
    "AWS::SNS::Topic": Placeholder(
        "TopicName", _TOPIC_ARN, {"TopicArn": _TOPIC_ARN, "TopicName": _name}
    ),
    "AWS::SQS::Queue": Placeholder(
        "QueueName", _queue_url, {"Arn": _regional("sqs", "{name}"), "QueueName": _name}
    ),
    "AWS::Logs::LogGroup": Placeholder(
        "LogGroupName", _name, {"Arn": _regional("logs", "log-group:{name}:*")}
    ),
    "AWS::CodeBuild::Project": Placeholder(
        "Name", _name, {"Arn": _regional("codebuild", "project/{name}")}
    ),
    "AWS::CodeBuild::ReportGroup": Placeholder(
        "Name", _REPORT_GROUP_ARN, {"Arn": _REPORT_GROUP_ARN}
    ),
    "AWS::CodeCommit::Repository": Placeholder(
        "RepositoryName", _uuid, {"Arn": _regional("codecommit", "{name}"), "Name": _name}
    ),
    "AWS::CodePipeline::Pipeline": Placeholder("Name", _name, {}),
    "AWS::Events::Rule": Placeholder("Name", _name, {"Arn": _regional("events", "rule/{name}")}),
    "AWS::CloudWatch::Alarm": Placeholder(
        "AlarmName", _name, {"Arn": _regional("cloudwatch", "alarm:{name}")}
    ),
    "AWS::StepFunctions::StateMachine": Placeholder(
        "StateMachineName", _STATE_MACHINE_ARN, {"Arn": _STATE_MACHINE_ARN, "Name": _name}
    ),
}


def _pseudo_parameters(context: StackContext) -> dict[str, object]:
    return {
        "AWS::Partition": context.partition,
        "AWS::Region": context.region,
        "AWS::AccountId": context.account,
        "AWS::URLSuffix": "amazonaws.com.cn" if context.partition == "aws-cn" else "amazonaws.com",
        "AWS::StackName": context.stack_name,
        "AWS::StackId": context.arn(
            "cloudformation", f"stack/{context.stack_name}/{_uuid(context, 'stack')}"
        ),
        "AWS::NoValue": NO_VALUE,
    }


def _resource(context: StackContext, logical_id: str) -> tuple[Placeholder, str]:
    """The placeholder rules of a resource and its physical name (a literal name property, or
    the logical id: what CloudFormation generates names from)."""
    resource = context.template.get("Resources", {}).get(logical_id)
    if resource is None:
        raise UnrenderableError(
            f"{logical_id}: no such resource or parameter in the template; "
            "fix: reference a resource of the same stack"
        )
    placeholder = PLACEHOLDERS.get(resource["Type"])
    if placeholder is None:
        raise UnrenderableError(
            f"{logical_id}: no placeholder for resource type {resource['Type']}; "
            "fix: add it to dataops.cfn_placeholders.PLACEHOLDERS"
        )
    name = resource.get("Properties", {}).get(placeholder.name_property or "")
    if not isinstance(name, str):
        name = logical_id.lower() if placeholder.lower_case else logical_id
    return placeholder, name


def _ref(context: StackContext, target: str) -> object:
    pseudo = _pseudo_parameters(context)
    if target in pseudo:
        return pseudo[target]
    parameter = context.template.get("Parameters", {}).get(target)
    if parameter is not None:
        return parameter.get("Default", f"{target}-value")
    placeholder, name = _resource(context, target)
    return placeholder.ref(context, name)


def _get_att(context: StackContext, logical_id: str, attribute: str) -> str:
    placeholder, name = _resource(context, logical_id)
    if attribute not in placeholder.attributes:
        resource_type = context.template["Resources"][logical_id]["Type"]
        raise UnrenderableError(
            f"{logical_id}.{attribute}: no placeholder for this attribute of {resource_type}; "
            "fix: add it to dataops.cfn_placeholders.PLACEHOLDERS"
        )
    return placeholder.attributes[attribute](context, name)


def _sub(context: StackContext, argument: object) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    rendered = {key: render(value, context) for key, value in variables.items()}

    def variable(name: str) -> str:
        if name in rendered:
            return str(rendered[name])
        if "." in name and not name.startswith("AWS::"):
            return _get_att(context, *name.split(".", 1))
        return str(_ref(context, name))

    out, rest = [], text
    while "${" in rest:
        before, _, after = rest.partition("${")
        name, _, rest = after.partition("}")
        out.append(before)
        # ``${!Literal}`` is CloudFormation's escape for a literal ``${Literal}``.
        out.append("${" + name[1:] + "}" if name.startswith("!") else variable(name))
    return "".join([*out, rest])


def _function(context: StackContext, name: str, argument: Any) -> object:
    if name == "Ref":
        return _ref(context, argument)
    if name == "Fn::GetAtt":
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return _get_att(context, logical_id, attribute)
    if name == "Fn::Join":
        separator, parts = argument
        return separator.join(str(part) for part in render(parts, context))
    if name == "Fn::Sub":
        return _sub(context, argument)
    if name == "Fn::Select":
        index, values = render(argument, context)
        return values[int(index)]
    if name == "Fn::Split":
        separator, text = render(argument, context)
        return text.split(separator)
    raise UnrenderableError(
        f"{name}: this intrinsic has no placeholder; fix: add it to dataops.cfn_placeholders"
    )


def render(value: Any, context: StackContext) -> Any:
    """``value`` with every intrinsic replaced by a placeholder (``AWS::NoValue`` dropped)."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return _function(context, key, argument)
        rendered = {key: render(item, context) for key, item in value.items()}
        return {key: item for key, item in rendered.items() if item is not NO_VALUE}
    if isinstance(value, list):
        return [item for item in (render(item, context) for item in value) if item is not NO_VALUE]
    return value
