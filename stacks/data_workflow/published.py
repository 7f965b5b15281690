"""SSM parameters with the names the post-deploy checks and the delivery pipeline read.

Every :class:`dataops.resource_names.PublishedResource` is written once, under
:func:`dataops.resource_names.parameter_name`; a member without a value fails the synth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dataops.resource_names import PublishedResource, parameter_name


@dataclass(frozen=True)
class PublishedNamesProps:
    project: str
    environment: str
    values: Mapping[PublishedResource, str]


class PublishedNames(Construct):
    """``parameters`` by published resource."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PublishedNamesProps) -> None:
        super().__init__(scope, construct_id)
        missing = [member.name for member in PublishedResource if member not in props.values]
        if missing:
            raise ValueError(f"no value published for {', '.join(missing)}")
        self.parameters = {
            member: ssm.StringParameter(
                self,
                "".join(part.title() for part in member.value.split("-")),
                parameter_name=parameter_name(props.project, props.environment, member),
                string_value=props.values[member],
                description=f"{member.value} of the {props.environment} data workflow",
            )
            for member in PublishedResource
        }
