"""IAM policy lint: parliament over every policy document of every template of a cloud assembly.

``python -m dataops.iam_lint cdk.out`` renders each template's intrinsics into placeholder ARNs
of the right resource types (:mod:`dataops.cfn_placeholders`), runs parliament on each identity
and resource policy (:mod:`dataops.iam_policies`), prints one line per finding that
:mod:`dataops.iam_lint_acknowledgements` does not accept, and exits 1 if there is any. Findings
of the kinds in :data:`dataops.iam_findings.NEVER_ACKNOWLEDGED` always fail.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from dataops.cfn_lint_templates import (
    StackEnvironment,
    assembly_templates,
    stack_environments,
    templates,
)
from dataops.cfn_placeholders import StackContext, UnrenderableError
from dataops.iam_findings import Acknowledgement, Finding
from dataops.iam_lint_acknowledgements import ACKNOWLEDGEMENTS
from dataops.iam_policies import PolicyDocument, policy_documents

# Where a template without a manifest entry (a hand-written one) is taken to deploy.
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
# Issues whose parliament detail lists the expanded actions concerned: reported once per action
# as the policy spells it.
PER_ACTION_ISSUES = frozenset({"RESOURCE_MISMATCH", "RESOURCE_STAR"})
CONDITION_ACTION = re.compile(r" for action (\S+)$")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _spelled(statement: dict[str, Any], action: str) -> str:
    """The statement's own spelling of an action parliament expanded (``s3:List*`` for
    ``s3:ListAllMyBuckets``); the action itself when the statement names it directly."""
    written = [str(a) for a in _as_list(statement.get("Action", statement.get("NotAction", [])))]
    if action in written:
        return action
    matches = [a for a in written if fnmatchcase(action.lower(), a.lower())]
    return matches[0] if matches else action


def _per_action(issue: str, detail: Any, statement: dict[str, Any]) -> dict[str, list[str]]:
    """Spelled action -> the expanded actions (with the resource each needs) it brings in."""
    grouped: dict[str, list[str]] = {}
    for item in detail:
        if issue == "RESOURCE_MISMATCH":
            action, text = item["action"], f"{item['action']} (needs {item['required_format']})"
        else:
            action, text = item, item
        grouped.setdefault(_spelled(statement, action), []).append(text)
    return grouped


def _document_findings(policy: PolicyDocument, *, template: Path, stack: str) -> Iterator[Finding]:
    # Imported here: parliament reads its whole IAM reference when imported, and only the
    # lint itself needs it (the Spark tests' worker imports this module and never lints).
    from parliament import analyze_policy_string
    from parliament import config as parliament_config

    analyzed = analyze_policy_string(json.dumps(policy.document), ignore_private_auditors=True)
    statements = _as_list(policy.document.get("Statement", []))
    located = {
        id(finding): index
        for index, statement in enumerate(analyzed.statements)
        for finding in statement.findings
    }

    def finding(index: int | None, issue: str, action: str | None, detail: str) -> Finding:
        sid = statements[index].get("Sid") if index is not None else None
        return Finding(
            template,
            stack,
            policy.logical_id,
            policy.resource_type,
            policy.location,
            index,
            sid,
            issue,
            action,
            detail,
        )

    seen: set[Finding] = set()
    for found in analyzed.findings:
        index = located.get(id(found))
        statement = statements[index] if index is not None else {}
        if found.issue in PER_ACTION_ISSUES and isinstance(found.detail, list):
            produced = [
                finding(index, found.issue, action, ", ".join(expanded))
                for action, expanded in _per_action(found.issue, found.detail, statement).items()
            ]
        else:
            detail = str(found.detail or parliament_config[found.issue]["title"])
            action = None
            if found.issue in {"UNKNOWN_ACTION", "UNKNOWN_PREFIX"}:
                action = found.location.get("string")
            elif match := CONDITION_ACTION.search(detail):
                action = _spelled(statement, match.group(1))
            produced = [finding(index, found.issue, action, detail)]
        for item in produced:
            if item not in seen:
                seen.add(item)
                yield item


def _context(template: Path, environment: StackEnvironment | None) -> StackContext:
    """What the template's intrinsics resolve against; an environment-agnostic stack (or a
    template no manifest names) is placed in a fixed example account and region."""
    if environment is None or not environment.account.isdigit():
        stack_name = environment.stack_name if environment else template.name
        environment = StackEnvironment(stack_name, DEFAULT_ACCOUNT, DEFAULT_REGION)
    return StackContext(
        json.loads(template.read_text(encoding="utf-8")),
        environment.account,
        environment.region,
        environment.stack_name,
    )


def lint_template(template: Path, environment: StackEnvironment | None = None) -> Iterator[Finding]:
    """Every parliament finding of every policy document of ``template``."""
    context = _context(template, environment)
    try:
        policies = list(policy_documents(context))
    except UnrenderableError as exc:
        raise UnrenderableError(f"{template}: {exc}") from exc
    for policy in policies:
        yield from _document_findings(policy, template=template, stack=context.stack_name)


def lint_assembly(assembly_dir: Path, *, nested: bool = True) -> Iterator[Finding]:
    """Every parliament finding of the assembly's templates (the stage assemblies' too)."""
    environments = stack_environments(assembly_dir)
    for template in templates(assembly_dir, nested=nested):
        yield from lint_template(template, environments.get(template.resolve()))


def unacknowledged(
    findings: Iterable[Finding], acknowledgements: Sequence[Acknowledgement]
) -> tuple[list[Finding], list[Acknowledgement]]:
    """The findings no acknowledgement covers, and the acknowledgements that covered none."""
    open_findings: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        covering = [i for i, ack in enumerate(acknowledgements) if ack.covers(finding)]
        used.update(covering)
        if not covering:
            open_findings.append(finding)
    unused = [ack for i, ack in enumerate(acknowledgements) if i not in used]
    return open_findings, unused


def main(argv: list[str] | None = None) -> int:
    named = assembly_templates(__doc__.splitlines()[0], argv)
    if named is None:
        return 2
    assembly_dir, found = named
    try:
        findings = list(lint_assembly(assembly_dir))
    except UnrenderableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failing, unused = unacknowledged(findings, ACKNOWLEDGEMENTS)
    for finding in failing:
        print(finding)
    for ack in unused:
        print(
            f"note: acknowledgement of {ack.issue} on {ack.stack} {ack.resource} matched nothing; "
            "fix: remove it from dataops/iam_lint_acknowledgements.py"
        )
    print(
        f"iam-lint: {len(found)} templates, {len(findings)} findings, "
        f"{len(findings) - len(failing)} acknowledged, {len(failing)} unacknowledged"
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
