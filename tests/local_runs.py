"""run-local through its command line, in this process, on the shared SparkSession.

A second JVM, started cold for each run, would take most of a test's time and memory.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dataops import cli


@contextlib.contextmanager
def shared_session(spark) -> Iterator[None]:
    """run-local builds the shared session instead of its own, and must not stop it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("jobkit.session.build_local_session", lambda *_, **__: spark)
        patch.setattr(spark, "stop", lambda: None)
        yield


def run_local(spark, raw: Path, warehouse: Path, *extra: str) -> tuple[int, str]:
    """``python -m dataops run-local --raw RAW --warehouse WAREHOUSE ...``: exit code, output."""
    output = io.StringIO()
    with shared_session(spark), contextlib.redirect_stdout(output):
        code = cli.main(["run-local", "--raw", str(raw), "--warehouse", str(warehouse), *extra])
    return code, output.getvalue()


def table(warehouse: Path, name: str, columns: str = "*", tail: str = "") -> list[tuple]:
    """Rows of one Parquet table written locally, sorted (none when it has no file yet)."""
    if not any((warehouse / name).rglob("*.parquet")):
        return []
    files = f"{warehouse / name}/**/*.parquet"
    return duckdb.sql(
        f"SELECT {columns} FROM read_parquet('{files}', hive_partitioning = true, "
        f"union_by_name = true) {tail} ORDER BY ALL"
    ).fetchall()
