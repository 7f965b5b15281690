"""What the IAM lint reports, and what may acknowledge a report.

A finding names where it is (template, stack, resource, statement), parliament's issue code and,
when the issue concerns one action, that action as the policy spells it (``s3:List*``, not each
action the wildcard expands to), so an acknowledgement can name exactly what it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

# Issues AWS would reject or silently not honour, or that stop parliament from checking the
# rest: a condition key the action never carries (the statement never matches), an action or
# service prefix parliament does not know, and every way a policy can be malformed. These fail
# the lint always; no acknowledgement may cover them.
NEVER_ACKNOWLEDGED = frozenset(
    {
        "UNKNOWN_CONDITION_FOR_ACTION",
        "UNKNOWN_ACTION",
        "UNKNOWN_PREFIX",
        "MALFORMED",
        "MALFORMED_JSON",
        "EXCEPTION",
        "DUPLICATE_SID",
        "INVALID_SID",
        "INVALID_ARN",
        "INVALID_VERSION",
        "UNKNOWN_OPERATOR",
    }
)


@dataclass(frozen=True)
class Finding:
    """One parliament finding in one policy document of one template."""

    template: Path
    stack: str
    logical_id: str
    resource_type: str
    location: str
    statement: int | None
    sid: str | None
    issue: str
    action: str | None
    detail: str

    @property
    def statement_label(self) -> str:
        if self.statement is None:
            return "(whole policy)"
        sid = f" {self.sid}" if self.sid else ""
        return f"Statement[{self.statement}]{sid}"

    def __str__(self) -> str:
        action = f" {self.action}:" if self.action else ""
        return (
            f"{self.template}: {self.logical_id} {self.location} {self.statement_label}: "
            f"{self.issue}{action} {self.detail}"
        )


@dataclass(frozen=True, kw_only=True)
class Acknowledgement:
    """An accepted finding kind where it occurs, and why.

    ``stack`` and ``resource`` are glob patterns over the stack name and the logical id of the
    resource holding the policy (``*`` for any); ``resource_type`` is a CloudFormation type or
    ``*``. ``actions`` lists the actions, spelled as in the policy, whose findings are accepted;
    empty, it accepts only findings that concern no single action (a condition's operator, a
    whole policy).
    """

    issue: str
    stack: str
    resource: str
    resource_type: str
    actions: tuple[str, ...]
    reason: str

    def __post_init__(self) -> None:
        if self.issue in NEVER_ACKNOWLEDGED:
            raise ValueError(
                f"iam-lint acknowledgement: {self.issue} cannot be acknowledged; "
                "fix: correct the policy"
            )
        if not self.reason.strip():
            raise ValueError(
                f"iam-lint acknowledgement of {self.issue}: no reason; fix: say why it is accepted"
            )

    def covers(self, finding: Finding) -> bool:
        return (
            finding.issue == self.issue
            and fnmatchcase(finding.stack, self.stack)
            and fnmatchcase(finding.logical_id, self.resource)
            and self.resource_type in {"*", finding.resource_type}
            and (finding.action in self.actions if finding.action else not self.actions)
        )
