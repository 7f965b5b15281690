"""SQL data tests: one Trino SELECT a file, returning the offending rows (zero rows = pass).

The same files run on Athena after a deploy and locally on DuckDB over the Parquet tables,
transpiled by sqlglot. DuckDB rather than Spark SQL for the local run: a data test is a small
scan-and-aggregate over Parquet, which DuckDB answers in milliseconds without a JVM round trip,
and sqlglot's Trino-to-DuckDB transpilation covers the functions the tests use
(``to_unixtime``, ``current_date``), so the SQL stays exactly what Athena runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.contracts import Contract
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT, load_project

SOURCE_DIALECT = "trino"


@dataclass(frozen=True)
class DataTest:
    name: str
    path: Path
    sql: str

    def tables(self) -> set[str]:
        """Tables the test reads (CTE names excluded)."""
        tree = sqlglot.parse_one(self.sql, read=SOURCE_DIALECT)
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        return {table.name for table in tree.find_all(exp.Table)} - ctes


@dataclass(frozen=True)
class DataTestResult:
    test: DataTest
    offending_rows: int
    sample: list[tuple[object, ...]]
    seconds: float
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and self.offending_rows == 0


def load_data_tests(directory: Path | str) -> list[DataTest]:
    paths = sorted(Path(directory).glob("*.sql"))
    return [DataTest(path.stem, path, path.read_text(encoding="utf-8")) for path in paths]


def lint(tests: list[DataTest], known_tables: set[str]) -> list[str]:
    """One line a problem: unparsable SQL, not a single SELECT, or a table without a contract
    in ``known_tables`` (its data set's tables)."""
    problems = []
    for test in tests:
        try:
            statements = sqlglot.parse(test.sql, read=SOURCE_DIALECT)
            sqlglot.transpile(test.sql, read=SOURCE_DIALECT, write="duckdb")
        except sqlglot.errors.ParseError as exc:
            first = str(exc).splitlines()[0]
            problems.append(f"{test.path}: invalid Trino SQL ({first}); fix: correct the query")
            continue
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            problems.append(f"{test.path}: must be exactly one SELECT; fix: keep one query a file")
            continue
        unknown = sorted(test.tables() - known_tables)
        if unknown:
            problems.append(
                f"{test.path}: reads {', '.join(unknown)} which has no contract in its data set; "
                f"fix: use a table of contracts/{test.path.parent.name}/"
            )
    return problems


def empty_table_sql(contract: Contract) -> str:
    """A DuckDB query of no rows with the contract's columns: a table not written yet is an
    empty table (as Athena sees it), not a missing one."""
    columns = ", ".join(
        f'CAST(NULL AS {exp.DataType.build(c.type, dialect="hive").sql("duckdb")}) AS "{c.name}"'
        for c in contract.columns
    )
    return f"SELECT {columns} WHERE false"


def run_on_duckdb(
    tests: list[DataTest], locations: Mapping[str, Path], contracts: Mapping[str, Contract]
) -> list[DataTestResult]:
    """Run ``tests`` over the Parquet tables at ``locations`` (table -> directory)."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for table, location in locations.items():
        files = list(location.rglob("*.parquet")) if location.is_dir() else []
        if files:
            pattern = str(location / "**" / "*.parquet")
            relation = connection.read_parquet(pattern, hive_partitioning=True, union_by_name=True)
            relation.create_view(table)
        else:
            connection.execute(f'CREATE VIEW "{table}" AS {empty_table_sql(contracts[table])}')
    results = []
    for test in tests:
        started = time.perf_counter()
        sql = sqlglot.transpile(test.sql, read=SOURCE_DIALECT, write="duckdb")[0]
        try:
            rows = connection.execute(sql).fetchall()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            results.append(DataTestResult(test, 0, [], time.perf_counter() - started, message))
            continue
        results.append(DataTestResult(test, len(rows), rows[:5], time.perf_counter() - started))
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    problems, count = [], 0
    for dataset in project.datasets.values():
        tests = load_data_tests(dataset.data_tests_dir)
        if not tests:
            raise DeclarationError(
                [f"{dataset.data_tests_dir}: no data tests; fix: add <name>.sql files"]
            )
        problems.extend(lint(tests, set(dataset.contracts)))
        count += len(tests)
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        return EXIT_CHECK_FAILED
    print(f"data tests: {count} parsed (Trino) and transpiled (DuckDB)")
    return EXIT_OK
