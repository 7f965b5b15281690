"""Reading synthesized templates in tests: CloudFormation references rendered as text, and a
state machine's definition as JSON."""

from __future__ import annotations

import json
from typing import Any


def rendered(value: Any) -> str:
    """A template value as text; a ``Ref`` becomes ``<Id>``, a ``GetAtt`` ``<Id.Attr>``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(rendered(part) for part in parts)
    raise TypeError(f"cannot render {value!r}")


def state_machines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each state machine's definition by its name; references are :func:`rendered`."""
    machines = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        body = resource["Properties"]["DefinitionString"]
        parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
        text = "".join(rendered(part) for part in parts)
        machines[resource["Properties"]["StateMachineName"]] = json.loads(text)
    return machines


def all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, the states of parallel branches included."""
    found = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found |= all_states(branch)
    return found


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind
    }
