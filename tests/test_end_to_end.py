"""run-local on generated raw files, checked to the row against an independent computation.

The oracle below is written here, in plain Python, straight from the flow-log format and the
issue's rules; it calls neither the job code nor the generator's own prediction, so a mistake
shared by both cannot pass unnoticed.

run-local runs through its command line (``dataops.cli.main``: arguments, exit code, summary)
in this process, on the SparkSession the Spark tests share: a second JVM, started cold for each
run, took most of this module's time and memory.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dataops import cli, data_tests
from dataops.project import PROJECT_ROOT
from dataops.sample_data import generate
from tests.local_runs import run_local, table

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.dataset("vpcflow")]

RECORDS = 400
QUARANTINE = "quarantine_vpcflowlogs"
REQUIRED = {"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
            "protocol", "packets", "bytes", "start", "end", "action", "log-status"}  # fmt: skip
INTEGERS = {"version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
            "tcp-flags", "traffic-path"}  # fmt: skip


@dataclass
class Oracle:
    """What the data workflow must make of the raw files."""

    read: int = 0
    staged: int = 0
    quarantined: Counter = field(default_factory=Counter)
    mart: dict[tuple, list[int]] = field(default_factory=dict)


def is_integer(text: str) -> bool:
    return text.removeprefix("-").isdigit()


def reason_for(values: dict[str, str], count: int, header: list[str]) -> str | None:
    if count != len(header):
        return "wrong_field_count"
    if any(v != "-" and not is_integer(v) for k, v in values.items() if k in INTEGERS):
        return "not_an_integer"
    if int(values["end"]) < int(values["start"]):
        return "end_before_start"
    if values["action"] not in {"ACCEPT", "REJECT", "-"}:
        return "unknown_action"
    if values["log-status"] not in {"OK", "NODATA", "SKIPDATA"}:
        return "unknown_log_status"
    return None


def compute(raw: Path) -> Oracle:
    oracle = Oracle()
    for path in sorted(raw.rglob("*.log*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as handle:
            header, *lines = handle.read().splitlines()
        names = header.split()
        for line in filter(str.strip, lines):
            oracle.read += 1
            fields = line.split()
            values = dict(zip(names, fields, strict=False))
            if not set(names) >= REQUIRED:
                oracle.quarantined["missing_required_fields"] += 1
                continue
            reason = reason_for(values, len(fields), names)
            if reason:
                oracle.quarantined[reason] += 1
                continue
            oracle.staged += 1
            if values["log-status"] == "OK" and values["action"] == "ACCEPT":
                start = int(values["start"])
                day = dt.datetime.fromtimestamp(start, tz=dt.UTC).date()
                key = (day, values["srcaddr"], int(values["dstport"]))
                totals = oracle.mart.setdefault(key, [0, 0, 0])
                totals[0] += int(values["packets"])
                totals[1] += int(values["bytes"])
                totals[2] += int(values["end"]) - start
    return oracle


def assert_summary(output: str, staging_rows_in: int) -> None:
    """The summary closes the output: a row a step, and every check passed."""
    lines = output.splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("step    "))
    steps = [line.split() for line in lines[header + 1 : header + 4]]
    assert steps[0][:2] == ["vpcflow.staging", f"{staging_rows_in:,}"], output
    assert [step[0] for step in steps] == [
        "vpcflow.staging",
        "vpcflow.intermediate",
        "vpcflow.mart",
    ], output
    data_tests = len(list((PROJECT_ROOT / "data_tests" / "vpcflow").glob("*.sql")))
    assert "contract checks: passed" in lines, output
    assert f"data tests: {data_tests} passed, 0 failed" in lines, output


MART = "dt, source_ip_address, destination_port, total_packets_sent, total_bytes_sent, " \
    "connection_length_sec"  # fmt: skip


@pytest.fixture(scope="module")
def outcome(spark, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Oracle]:
    root = tmp_path_factory.mktemp("e2e")
    raw, warehouse = root / "raw", root / "warehouse"
    generate(raw, RECORDS, seed=23)
    code, output = run_local(spark, raw, warehouse, "--dataset", "vpcflow")
    assert code == 0, output
    assert_summary(output, RECORDS)
    return raw, warehouse, compute(raw)


def test_the_mart_equals_the_independent_computation_to_the_row(outcome) -> None:
    _, warehouse, oracle = outcome
    expected = sorted((*key, *totals) for key, totals in oracle.mart.items())
    assert table(warehouse, "data_app_conn_stats", MART) == expected


def test_every_data_line_is_staged_or_quarantined_with_its_reason(outcome) -> None:
    _, warehouse, oracle = outcome
    staged = table(warehouse, "staging_raw_vpcflowlogs", "count(*)")[0][0]
    reasons = dict(table(warehouse, QUARANTINE, "reason, count(*)", "GROUP BY reason"))
    assert oracle.read == RECORDS
    assert staged == oracle.staged
    assert reasons == dict(oracle.quarantined)
    assert staged + sum(reasons.values()) == oracle.read


def test_a_rerun_on_the_same_input_adds_zero_rows(spark, outcome) -> None:
    raw, warehouse, oracle = outcome
    tables = ("staging_raw_vpcflowlogs", QUARANTINE, "inter_model_flowlogs")
    before = {name: table(warehouse, name, "count(*)") for name in tables}
    code, output = run_local(spark, raw, warehouse, "--dataset", "vpcflow")
    assert code == 0, output
    assert_summary(output, 0)
    assert {name: table(warehouse, name, "count(*)") for name in tables} == before
    expected = sorted((*key, *totals) for key, totals in oracle.mart.items())
    assert table(warehouse, "data_app_conn_stats", MART) == expected


def test_a_failed_check_exits_1_naming_it(spark, outcome, tmp_path, monkeypatch) -> None:
    raw, warehouse, _ = outcome
    offending = PROJECT_ROOT / "data_tests" / "vpcflow" / "every_mart_row_offends.sql"
    real_load = data_tests.load_data_tests

    def with_offending_test(directory):
        tests = real_load(directory)
        sql = "SELECT * FROM data_app_conn_stats"
        return [*tests, data_tests.DataTest("every_mart_row_offends", offending, sql)]

    monkeypatch.setattr("dataops.local_runner.load_data_tests", with_offending_test)
    copy = tmp_path / "warehouse"
    shutil.copytree(warehouse, copy)
    code, output = run_local(spark, raw, copy, "--dataset", "vpcflow")
    assert code == 1, output
    assert "  FAILED every_mart_row_offends" in output, output


def test_new_objects_are_processed_alone_and_their_mart_partitions_recomputed(
    spark, outcome
) -> None:
    """Last of the module's runs: it adds objects to the shared raw directory (a copy would be
    another raw root, with state of its own)."""
    raw, warehouse, _ = outcome
    staged_before = table(warehouse, "staging_raw_vpcflowlogs", "count(*)")[0][0]
    # Delivered on later days: the earlier days are complete (see jobkit.raw_source).
    generate(raw, 300, seed=24, days=1, start=dt.date(2024, 5, 12))
    code, output = run_local(spark, raw, warehouse, "--dataset", "vpcflow")
    assert code == 0, output
    assert_summary(output, 300)
    assert table(warehouse, "staging_raw_vpcflowlogs", "count(*)")[0][0] > staged_before
    expected = sorted((*key, *totals) for key, totals in compute(raw).mart.items())
    assert table(warehouse, "data_app_conn_stats", MART) == expected


def test_a_missing_raw_directory_is_a_usage_error(tmp_path, capsys) -> None:
    code = cli.main(["run-local", "--raw", str(tmp_path / "none"), "--warehouse", str(tmp_path)])
    assert code == 2
    assert "error: --raw" in capsys.readouterr().out
