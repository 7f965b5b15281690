"""``check-contracts --base REF``: breaking contract changes need a major version bump.

Consumers of a table (dashboards, other teams' queries) break when a column disappears or
changes type, when a column becomes nullable, or when the partitioning or grain changes; such a
change passes only with a new major version, which tells them. Additive changes (a new nullable
column, a new table) pass as they are.
"""

from __future__ import annotations

import argparse
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE
from dataops.contracts import DEFAULT_CONTRACTS_DIR, Contract, load_contract_tree
from dataops.declarations import DeclarationError, SafeLoader, validate
from dataops.project import PROJECT_ROOT


class ChangeClass(StrEnum):
    BREAKING = "breaking"
    ADDITIVE = "additive"
    INFO = "informational"


@dataclass(frozen=True)
class Change:
    table: str
    what: str
    kind: ChangeClass


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["git failed"])[0]
        raise DeclarationError([f"--base: git {' '.join(args)}: {first}; fix: pass a valid ref"])
    return result.stdout


def load_base_contracts(root: Path, ref: str) -> dict[str, Contract]:
    """The contracts as they are at ``ref``, validated by the same model."""
    _git(root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    names = _git(root, "ls-tree", "-r", "--name-only", ref, f"{DEFAULT_CONTRACTS_DIR}/").split()
    contracts = {}
    for name in names:
        if name.endswith(".yaml"):
            text = _git(root, "show", f"{ref}:{name}")
            document = yaml.load(text, Loader=SafeLoader)  # noqa: S506
            contract = validate(Contract, document, Path(f"{ref}:{name}"))
            contracts[contract.name] = contract
    return contracts


def table_changes(base: Contract, head: Contract) -> list[Change]:
    changes: list[Change] = []
    name = head.name

    def add(what: str, kind: ChangeClass) -> None:
        changes.append(Change(name, what, kind))

    base_columns = {column.name: column for column in base.columns}
    head_columns = {column.name: column for column in head.columns}
    added = [head_columns[c] for c in head_columns if c not in base_columns]
    for column_name, column in base_columns.items():
        if column_name not in head_columns:
            twin = next((c.name for c in added if c.type == column.type), None)
            hint = f" (renamed to {twin}?)" if twin else ""
            add(f"column {column_name} removed{hint}", ChangeClass.BREAKING)
            continue
        new = head_columns[column_name]
        if new.type != column.type:
            add(f"column {column_name} type {column.type} -> {new.type}", ChangeClass.BREAKING)
        if new.nullable and not column.nullable:
            add(f"column {column_name} becomes nullable", ChangeClass.BREAKING)
        if column.nullable and not new.nullable:
            add(f"column {column_name} becomes non-nullable", ChangeClass.INFO)
        if new.model_dump(exclude={"type", "nullable"}) != column.model_dump(
            exclude={"type", "nullable"}
        ):
            add(f"column {column_name} description/pii/masking changed", ChangeClass.INFO)
    for column in added:
        if column.nullable:
            add(f"column {column.name} added (nullable)", ChangeClass.ADDITIVE)
        else:
            add(f"column {column.name} added as non-nullable", ChangeClass.BREAKING)
    for key in ("layer", "partition_keys", "grain"):
        if getattr(base, key) != getattr(head, key):
            add(f"{key} {getattr(base, key)} -> {getattr(head, key)}", ChangeClass.BREAKING)
    if (base.owner, base.description) != (head.owner, head.description):
        add("owner or description changed", ChangeClass.INFO)
    return changes


def _version(contract: Contract) -> tuple[int, ...]:
    return tuple(int(part) for part in contract.version.split("."))


def compare(base: dict[str, Contract], head: dict[str, Contract]) -> tuple[list[Change], list[str]]:
    """All changes, and one failure line a table whose changes its version does not allow."""
    changes: list[Change] = []
    failures: list[str] = []
    for name in sorted(base.keys() | head.keys()):
        if name not in head:
            changes.append(Change(name, "table removed", ChangeClass.BREAKING))
            failures.append(f"{name}: table removed; fix: keep it, or deprecate it first")
            continue
        if name not in base:
            changes.append(Change(name, "table added", ChangeClass.ADDITIVE))
            continue
        table = table_changes(base[name], head[name])
        changes.extend(table)
        old, new = _version(base[name]), _version(head[name])
        if new < old:
            failures.append(
                f"{name}: version went down {base[name].version} -> {head[name].version}"
            )
        breaking = [change.what for change in table if change.kind is ChangeClass.BREAKING]
        if breaking and new[0] <= old[0]:
            failures.append(
                f"{name}: breaking change(s) ({'; '.join(breaking)}) without a major version "
                f"bump; fix: set version: {old[0] + 1}.0.0 and tell the table's consumers"
            )
    return changes, failures


def render(changes: list[Change]) -> str:
    if not changes:
        return "contracts: no changes"
    width = max(len(change.table) for change in changes)
    rows = [f"{'table':<{width}}  {'class':<13}  change"]
    rows += [f"{c.table:<{width}}  {c.kind.value:<13}  {c.what}" for c in changes]
    return "\n".join(rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, help="git ref to compare with (e.g. origin/main)")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    try:
        base = load_base_contracts(args.root, args.base)
    except DeclarationError as exc:
        for line in exc.lines:
            print(f"error: {line}")
        return EXIT_USAGE
    changes, failures = compare(base, load_contract_tree(args.root / DEFAULT_CONTRACTS_DIR))
    print(render(changes))
    for failure in failures:
        print(f"error: {failure}")
    return EXIT_CHECK_FAILED if failures else EXIT_OK
