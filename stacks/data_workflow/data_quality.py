"""Data-quality rules generated from the contracts, as Glue Data Quality rulesets and as SQL.

Each table's rules: every non-null column is complete, and the declared grain identifies one
row. The rulesets are attached to the catalog tables (for Glue Data Quality runs from the
console or on a schedule); the data workflow checks the same rules with Athena, because Athena
reads the projected partitions the jobs write, while Glue Data Quality only sees partitions
registered in the catalog. The workflow's query reads only the ``dt`` partitions its run wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_glue as glue
from constructs import Construct

from dataops.contracts import Contract
from dataops.datasets import CONTRACTS_DIR
from dataops.job_graph import PARTITION_KEY
from stacks.data_workflow.names import pascal


@dataclass(frozen=True)
class Rule:
    """One rule over a table's columns: ``complete`` (no nulls) or ``unique`` (a key)."""

    kind: str
    columns: tuple[str, ...]

    @property
    def dqdl(self) -> str:
        quoted = " ".join(f'"{column}"' for column in self.columns)
        if self.kind == "complete":
            return f"IsComplete {quoted}"
        return f"IsUnique {quoted}" if len(self.columns) == 1 else f"IsPrimaryKey {quoted}"

    def violations_sql(self, table: str, partitions: str) -> str:
        """A query counting the rows (or keys) breaking the rule in the ``dt`` partitions
        ``partitions`` lists (SQL values, e.g. ``DATE '2024-05-06'``).

        Table and column names are contract identifiers (``[a-z][a-z0-9_]*``, validated by
        ``dataops.contracts``), so composing SQL from them is safe."""
        columns = ", ".join(f'"{column}"' for column in self.columns)
        scope = f'"{PARTITION_KEY}" IN ({partitions})'
        if self.kind == "complete":
            return f'SELECT count(*) FROM "{table}" WHERE {scope} AND {columns} IS NULL'  # noqa: S608
        return (
            f'SELECT count(*) FROM (SELECT {columns} FROM "{table}" WHERE {scope} '  # noqa: S608
            f"GROUP BY {columns} HAVING count(*) > 1)"
        )


def contract_rules(contract: Contract) -> list[Rule]:
    rules = [Rule("complete", (c.name,)) for c in contract.columns if not c.nullable]
    if contract.grain:
        rules.append(Rule("unique", tuple(contract.grain)))
    return rules


def dqdl_ruleset(contract: Contract) -> str:
    return "Rules = [\n    " + ",\n    ".join(r.dqdl for r in contract_rules(contract)) + "\n]"


def violations_query(contract: Contract, partitions: str) -> str:
    """One row per broken rule (its DQDL and how many rows break it) in the ``dt`` partitions
    ``partitions`` lists; zero rows = pass. ``partitions`` appears once per rule."""
    branches = [
        f"SELECT '{rule.dqdl}' AS rule, "
        f"({rule.violations_sql(contract.name, partitions)}) AS violations"
        for rule in contract_rules(contract)
    ]
    # One line: the workflow embeds it in a States.Format template.
    union = " UNION ALL ".join(branches)
    return f"SELECT rule, violations FROM ({union}) WHERE violations > 0"  # noqa: S608


def checked_contracts(contracts: Mapping[str, Contract]) -> list[Contract]:
    """Contracts that declare at least one rule, by name."""
    return [contracts[name] for name in sorted(contracts) if contract_rules(contracts[name])]


@dataclass(frozen=True)
class DataQualityProps:
    name_prefix: str
    dataset: str
    database_name: str
    contracts: Mapping[str, Contract]
    tables: Mapping[str, glue.CfnTable]


class DataQualityRulesets(Construct):
    """One ruleset a checked table of a data set; ``rulesets`` by table name."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataQualityProps) -> None:
        super().__init__(scope, construct_id)
        self.rulesets: dict[str, glue.CfnDataQualityRuleset] = {}
        for contract in checked_contracts(props.contracts):
            ruleset = glue.CfnDataQualityRuleset(
                self,
                pascal(contract.name),
                name=f"{props.name_prefix}-{contract.name}",
                description=f"From {CONTRACTS_DIR / props.dataset / contract.name}.yaml "
                f"v{contract.version}",
                ruleset=dqdl_ruleset(contract),
                target_table=glue.CfnDataQualityRuleset.DataQualityTargetTableProperty(
                    database_name=props.database_name, table_name=contract.name
                ),
            )
            ruleset.node.add_dependency(props.tables[contract.name])
            self.rulesets[contract.name] = ruleset
