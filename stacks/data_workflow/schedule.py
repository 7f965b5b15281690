"""A data set's EventBridge schedule starting its workflow: the environment's ``schedule``
(none when unset)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


@dataclass(frozen=True)
class ScheduleProps:
    dataset: str
    expression: str
    state_machine: sfn.IStateMachine


class WorkflowSchedule(Construct):
    """Starts the state machine with empty input, so every default of a run applies."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ScheduleProps) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Runs the data workflow of {props.dataset} {props.expression}",
            schedule=events.Schedule.expression(props.expression),
            targets=[
                targets.SfnStateMachine(
                    props.state_machine,
                    input=events.RuleTargetInput.from_object({}),
                    retry_attempts=2,
                )
            ],
        )
