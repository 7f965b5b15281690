"""The data diff as a reviewer reads it (Markdown) and as a tool reads it (JSON).

The Markdown puts the verdict and the table overview first and the impact last, so a comment
trimmed to a service's limit keeps what matters most.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dataops.contract_changes import Change
from dataops.data_diff.compare import RowDiff
from dataops.data_diff.runs import HeadPlan, Sample
from dataops.impact import SHORT_COMMIT, Impact

# A pull request touching many files lists the first of them; the JSON has them all.
MAX_FILES_SHOWN = 20


@dataclass(frozen=True)
class TableDiff:
    """One table: its rows, its contract's changes (the contract gate's classes), and whether
    the head run recomputed it or copied it from the base run."""

    table: str
    dataset: str
    rows: RowDiff
    schema: tuple[Change, ...]
    recomputed: bool

    @property
    def differs(self) -> bool:
        return self.rows.differs or bool(self.schema)


@dataclass(frozen=True)
class QuarantineDiff:
    """A quarantine table's rows by reason: reason -> (base, head)."""

    table: str
    reasons: dict[str, tuple[int, int]]

    @property
    def differs(self) -> bool:
        return any(base != head for base, head in self.reasons.values())


@dataclass(frozen=True)
class DataDiff:
    """Everything one data diff found."""

    base: str
    base_commit: str
    merge_base: str
    head_commit: str
    sample: Sample
    impact: Impact
    not_impacted: tuple[str, ...] = ()
    plans: tuple[HeadPlan, ...] = ()
    tables: tuple[TableDiff, ...] = ()
    quarantine: tuple[QuarantineDiff, ...] = ()
    base_checks_failed: bool = False
    # The first line of what the head run raised: the change breaks the data workflow.
    head_error: str = ""

    @property
    def differs(self) -> bool:
        return (
            bool(self.head_error)
            or any(t.differs for t in self.tables)
            or any(q.differs for q in self.quarantine)
        )

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["impact"] = self.impact.as_json()
        document["differs"] = self.differs
        for table, diff in zip(document["tables"], self.tables, strict=True):
            table["differs"] = diff.differs
        return document


def _number(value: int | float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}"


def _names(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "none"


def _overview(diff: DataDiff) -> list[str]:
    lines = [
        "| Table | Base rows | Head rows | Added | Removed | Changed | Schema | Head run |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for table in diff.tables:
        rows = table.rows
        schema = ", ".join(sorted({change.kind.value for change in table.schema})) or "-"
        lines.append(
            f"| `{table.table}` | {_number(rows.base_rows)} | {_number(rows.head_rows)} | "
            f"{_number(rows.added)} | {_number(rows.removed)} | {_number(rows.changed)} | "
            f"{schema} | {'recomputed' if table.recomputed else 'reused'} |"
        )
    return lines


def _table_details(table: TableDiff) -> list[str]:
    rows = table.rows
    lines = ["", f"### `{table.table}`", ""]
    if rows.key:
        lines.append(f"Rows matched by the grain ({', '.join(rows.key)}).")
    elif rows.note:
        lines.append(f"Note: {rows.note}.")
    if rows.columns:
        lines += ["", "| Column | Rows changed | Largest change |", "|---|---:|---:|"]
        lines += [
            f"| `{c.column}` | {_number(c.rows)} | {_number(c.largest_change)} |"
            for c in rows.columns
        ]
    for label, names in (
        ("Columns only in the base run", rows.columns_only_in_base),
        ("Columns only in the head run", rows.columns_only_in_head),
    ):
        if names:
            lines += ["", f"{label} (not compared): {_names(names)}."]
    if table.schema:
        lines += ["", "Contract changes:", ""]
        lines += [f"- {change.kind.value}: {change.what}" for change in table.schema]
    return lines


def _quarantine(diff: DataDiff) -> list[str]:
    lines = [
        "",
        "### Quarantine by reason",
        "",
        "| Table | Reason | Base | Head |",
        "|---|---|---:|---:|",
    ]
    for entry in diff.quarantine:
        for reason, (base, head) in sorted(entry.reasons.items()):
            mark = "" if base == head else " **changed**"
            lines.append(f"| `{entry.table}` | {reason}{mark} | {base:,} | {head:,} |")
    return lines


def _impact(diff: DataDiff) -> list[str]:
    impact = diff.impact
    changed = impact.changed
    more = len(changed) - MAX_FILES_SHOWN
    listed = _names(changed[:MAX_FILES_SHOWN]) + (f" and {more} more" if more > 0 else "")
    lines = ["", "### Impact", "", f"Changed files ({len(changed)}): {listed}."]
    if impact.shared:
        lines.append(
            f"Shared code or configuration changed ({_names(impact.shared)}): every data set "
            "is impacted."
        )
    plans = {plan.dataset: plan for plan in diff.plans}
    items = []
    for name, entry in impact.datasets.items():
        plan = plans.get(name)
        runs = ""
        if plan is not None:
            reused = f"; reused from the base run: {_names(plan.reused)}" if plan.reused else ""
            runs = f" Recomputed: {_names(plan.jobs)}{reused}."
        items.append(
            f"- **{name}**: jobs {_names(entry.jobs)}; tables {_names(entry.tables)}; "
            f"data tests {_names(entry.data_tests)}.{runs}"
        )
    items += [f"- **{name}**: removed." for name in impact.removed]
    if diff.not_impacted:
        items.append(f"- Not impacted, not run: {', '.join(diff.not_impacted)}.")
    return [*lines, "", *items] if items else lines


def render_markdown(diff: DataDiff) -> str:
    """The report: verdict, tables, per-table details, quarantine, impact."""
    sample = diff.sample
    where = (
        f"`{diff.base_commit[:SHORT_COMMIT]}`"
        if diff.merge_base == diff.base_commit
        else f"merge base `{diff.merge_base[:SHORT_COMMIT]}`"
    )
    # The pull-request check passes the base as a commit: it is named once, short.
    named = "" if diff.base == diff.base_commit else f"`{diff.base}` "
    compared = f"the base {named}({where}) and this change (`{diff.head_commit[:SHORT_COMMIT]}`)"
    if not diff.plans:
        verdict = (
            f"**No data set is impacted** between {compared}: no job depends on the changed "
            "files, so nothing was run."
        )
    else:
        differing = sum(table.differs for table in diff.tables)
        headline = (
            f"**{differing} of {len(diff.tables)} tables differ**"
            if differing
            else f"**No differences** in {len(diff.tables)} tables"
        )
        verdict = (
            f"{headline} between {compared}, both run on the same generated sample "
            f"({sample.records:,} records per data set, seed {sample.seed}, {sample.days} days)."
        )
    lines = ["## Data diff", "", verdict]
    if diff.head_error:
        lines += ["", f"**The data workflow fails with this change**: {diff.head_error}"]
    if diff.base_checks_failed:
        lines += ["", "The base run's own checks failed; its tables are compared as they are."]
    if diff.tables:
        lines += ["", *_overview(diff)]
        for table in diff.tables:
            if table.differs:
                lines += _table_details(table)
    if any(entry.reasons for entry in diff.quarantine):
        lines += _quarantine(diff)
    lines += _impact(diff)
    return "\n".join(lines) + "\n"
