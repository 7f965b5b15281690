"""Job code never names a table or a job its declaration does not give it.

The job graph is the one place that says which job reads and writes which table; a job module
that spelled another table's name, or another job's, would restate the graph and silently
disagree with it after a change. So: a SQL model reads only the tables its job reads; a Python
module names in its code (string literals and identifiers, not comments) only the tables of the
job it implements; shared modules of a data set, and the framework, name none at all.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from dataops.datasets import DataSet
from dataops.job_graph import GLUE_SCRIPTS_DIR
from dataops.project import PROJECT_ROOT, Project

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def words_in_code(source: str) -> set[str]:
    """Identifiers and the words inside string literals of a Python module (not comments nor
    docstrings, which are prose)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(_WORD.findall(node.value))
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def sql_tables(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="spark")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {table.name for table in tree.find_all(exp.Table)} - ctes


def module_path(dataset: DataSet, module: str) -> Path:
    return dataset.root.parent.joinpath(*module.split(".")).with_suffix(".py")


def problems(project: Project) -> list[str]:
    """One line for each name a piece of job code has no business knowing."""
    tables = set(project.contracts)
    jobs = {job.name for ds in project.datasets.values() for job in ds.job_graph.jobs}
    found = []
    for dataset in project.datasets.values():
        given: dict[Path, set[str]] = {}
        for job in dataset.job_graph.jobs:
            allowed = {*job.input_tables, *job.outputs}
            if job.sql is not None:
                named = sql_tables((dataset.root / job.sql).read_text(encoding="utf-8"))
                found += [
                    f"{dataset.root / job.sql}: reads {name}, which job {job.name} does not read"
                    for name in sorted(named - set(job.input_tables))
                ]
            else:
                given[module_path(dataset, job.python or "")] = allowed
        for path in sorted(dataset.root.rglob("*.py")):
            words = words_in_code(path.read_text(encoding="utf-8"))
            for name in sorted(words & (tables - given.get(path, set()))):
                found.append(f"{path}: names table {name}, which its declaration does not give it")
            for name in sorted(words & jobs):
                found.append(f"{path}: names job {name}; jobs get their inputs from the job graph")
    framework = PROJECT_ROOT / GLUE_SCRIPTS_DIR / "jobkit"
    for path in sorted(framework.rglob("*.py")):
        words = words_in_code(path.read_text(encoding="utf-8"))
        for name in sorted(words & (tables | set(project.datasets))):
            found.append(f"{path}: the framework names {name}")
    return found


def test_no_job_code_names_a_table_or_job_its_declaration_does_not_give_it(project) -> None:
    assert problems(project) == []


def test_the_check_catches_a_module_naming_another_jobs_table(project, monkeypatch) -> None:
    dataset = project.datasets["vpcflow"]
    staging = module_path(dataset, dataset.job_graph.job("staging").python or "")
    original = staging.read_text(encoding="utf-8")
    planted = original + '\nMART = "data_app_conn_stats"\nUPSTREAM = "intermediate"\n'
    monkeypatch.setattr(
        Path,
        "read_text",
        lambda self, *a, **k: planted if self == staging else Path.open(self).read(),
    )
    found = problems(project)
    assert (
        f"{staging}: names table data_app_conn_stats, which its declaration does not give it"
        in found
    )
    assert f"{staging}: names job intermediate; jobs get their inputs from the job graph" in found


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT a FROM t JOIN u ON t.k = u.k", {"t", "u"}),
        ("WITH x AS (SELECT * FROM t) SELECT * FROM x", {"t"}),
    ],
)
def test_sql_models_are_read_for_the_tables_they_name(sql, tables) -> None:
    assert sql_tables(sql) == tables
