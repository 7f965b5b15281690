"""An execution's outcome and history, and the facts of a definition scenarios assert with.

Scenarios never spell state names: they find states by what they do (the Task resource they
call, their type) in the definition the stand-up created, and read the path an execution took
from its history (``...StateEntered`` events, in order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_INTEGRATION = ":states:::"
_NESTED = ("Iterator", "ItemProcessor")


def _state_maps(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _state_maps(branch.get("States", {}))
        for key in _NESTED:
            if key in state:
                yield from _state_maps(state[key].get("States", {}))


def all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, those of Parallel branches and Map item processors included."""
    return dict(_state_maps(definition.get("States", {})))


def integration(state: dict[str, Any]) -> str:
    """A Task's integration without its pattern: ``glue:startJobRun``, ``aws-sdk:glue:getCrawler``
    (empty for other states)."""
    resource = state.get("Resource", "") if state.get("Type") == "Task" else ""
    return resource.partition(_INTEGRATION)[2].split(".", 1)[0]


def flow_order(definition: dict[str, Any]) -> list[str]:
    """States in the order a walk from ``StartAt`` along ``Next``, ``Choices`` and ``Default``
    first reaches them, into Parallel branches where they start; catch handlers only where the
    normal flow reaches them too."""
    order: list[str] = []

    def walk(states: dict[str, Any], name: str) -> None:
        pending = [name]
        while pending:
            current = pending.pop(0)
            if current in order:
                continue
            order.append(current)
            state = states[current]
            for branch in state.get("Branches", []):
                walk(branch["States"], branch["StartAt"])
            for key in _NESTED:
                if key in state:
                    walk(state[key]["States"], state[key]["StartAt"])
            pending[:0] = _successors(state)

    walk(definition["States"], definition["StartAt"])
    return order


def _successors(state: dict[str, Any]) -> list[str]:
    nexts = [
        state.get("Next"),
        *(c.get("Next") for c in state.get("Choices", [])),
        state.get("Default"),
    ]
    return [name for name in nexts if name]


def failure_path(definition: dict[str, Any]) -> set[str]:
    """States from which the normal flow can only end in a Fail state (the failure notice and
    the Fail state itself, for example)."""
    states = all_states(definition)
    failing = {name for name, state in states.items() if state.get("Type") == "Fail"}
    grew = True
    while grew:
        grew = False
        for name, state in states.items():
            successors = _successors(state)
            if name not in failing and successors and set(successors) <= failing:
                failing.add(name)
                grew = True
    return failing


@dataclass(frozen=True)
class ExecutionResult:
    """What ``DescribeExecution`` and ``GetExecutionHistory`` said when the execution ended."""

    arn: str
    status: str
    error: str | None
    cause: str | None
    events: tuple[dict[str, Any], ...]
    definition: dict[str, Any]

    @property
    def name(self) -> str:
        """The execution's name: the batch id of every job run it started."""
        return self.arn.rsplit(":", 1)[-1]

    @property
    def path(self) -> list[str]:
        """Names of the states entered, in order (branches of a Parallel interleave)."""
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.events
            if event["type"].endswith("StateEntered")
        ]

    def entered(self, state: str) -> int:
        return self.path.count(state)

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == event_type]

    def summary(self) -> str:
        ending = f" ({self.error}: {self.cause})" if self.error else ""
        return f"{self.status}{ending} via {' -> '.join(self.path)}"
