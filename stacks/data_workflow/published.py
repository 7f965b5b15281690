"""SSM parameters with the names the post-deploy checks and the delivery pipeline read.

The environment's resources are written once each under
:func:`dataops.resource_names.parameter_name`, a data set's (its state machine) under
:func:`dataops.resource_names.dataset_parameter_name`; a resource without a value fails the
synth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    dataset_parameter_name,
    parameter_name,
)
from stacks.data_workflow.names import pascal


def _check_complete(given: Collection[str], expected: Iterable[str]) -> None:
    missing = [member for member in expected if member not in given]
    if missing:
        raise ValueError(f"no value published for {', '.join(missing)}")


@dataclass(frozen=True)
class PublishedNamesProps:
    project: str
    environment: str
    values: Mapping[PublishedResource, str]


class PublishedNames(Construct):
    """``parameters`` by environment-level published resource."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PublishedNamesProps) -> None:
        super().__init__(scope, construct_id)
        _check_complete(props.values.keys(), PublishedResource)
        self.parameters = {
            member: ssm.StringParameter(
                self,
                pascal(member.value),
                parameter_name=parameter_name(props.project, props.environment, member),
                string_value=props.values[member],
                description=f"{member.value} of the {props.environment} data workflows",
            )
            for member in PublishedResource
        }


@dataclass(frozen=True)
class DataSetNamesProps:
    project: str
    environment: str
    dataset: str
    values: Mapping[DataSetResource, str]


class DataSetNames(Construct):
    """``parameters`` by published resource of one data set."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataSetNamesProps) -> None:
        super().__init__(scope, construct_id)
        _check_complete(props.values.keys(), DataSetResource)
        self.parameters = {
            member: ssm.StringParameter(
                self,
                pascal(member.value),
                parameter_name=dataset_parameter_name(
                    props.project, props.environment, props.dataset, member
                ),
                string_value=props.values[member],
                description=f"{member.value} of the {props.dataset} data workflow in "
                f"{props.environment}",
            )
            for member in DataSetResource
        }
