"""What a real account sends: clean batches, nothing new, empty objects, broken objects.

A clean batch with nothing to quarantine is the commonest real input, so it comes first; the
broken objects must each be quarantined whole, named, sized and marked done, while the rest of
their batch is staged.
"""

from __future__ import annotations

import datetime as dt
import gzip
import sys
import types
from pathlib import Path

import pytest

from dataops.job_contexts import job_context
from dataops.local_runner import local_locations, run_dataset
from jobkit.raw_staging import CountMismatch, ParsedRecords
from jobkit.runner import run_job
from tests.local_runs import run_local, table
from tests.raw_objects import (
    V2_HEADER,
    clean_lines,
    flow_line,
    unix,
    write_flow_log,
    write_object,
)
from vpcflow.staging import PARSER

pytestmark = pytest.mark.xdist_group("spark")

DAY1, DAY2 = dt.date(2024, 5, 6), dt.date(2024, 5, 7)
STAGED, QUARANTINE = "staging_raw_vpcflowlogs", "quarantine_vpcflowlogs"
INTERMEDIATE, MART = "inter_model_flowlogs", "data_app_conn_stats"


def mart_by_hand(lines: list[str]) -> list[tuple]:
    """The mart of accepted OK flows, computed here from the lines themselves."""
    totals: dict[tuple, list[int]] = {}
    for line in lines:
        fields = line.split()
        start, end = int(fields[10]), int(fields[11])
        day = dt.datetime.fromtimestamp(start, tz=dt.UTC).date()
        key = (fields[3], int(fields[6]), day)
        sums = totals.setdefault(key, [0, 0, 0])
        sums[0] += int(fields[8])
        sums[1] += int(fields[9])
        sums[2] += end - start
    return sorted((src, port, *sums, day) for (src, port, day), sums in totals.items())


@pytest.fixture(scope="module")
def clean(spark, tmp_path_factory):
    """Two days of clean objects, gzip and plain, run through the command line."""
    root = tmp_path_factory.mktemp("clean")
    raw, warehouse = root / "raw", root / "warehouse"
    day1, day2 = clean_lines(DAY1, 12), clean_lines(DAY2, 9)
    write_flow_log(raw, DAY1, "a.log.gz", day1[:7])
    write_flow_log(raw, DAY1, "b.log", day1[7:])
    write_flow_log(raw, DAY2, "c.log.gz", day2)
    code, output = run_local(spark, raw, warehouse, "--dataset", "vpcflow")
    return raw, warehouse, day1 + day2, code, output


def test_a_clean_batch_runs_green_with_nothing_quarantined(clean) -> None:
    _, warehouse, lines, code, output = clean
    assert code == 0, output
    assert "vpcflow.staging                   21          21            0        0" in output
    assert table(warehouse, QUARANTINE) == []
    assert table(warehouse, STAGED, "count(*)") == [(21,)]
    assert table(warehouse, MART, "* EXCLUDE (dt), dt") == mart_by_hand(lines)


def test_a_clean_batch_records_the_partitions_each_job_wrote(clean) -> None:
    import json

    _, warehouse, _, _, _ = clean
    runs = warehouse / "_state" / "vpcflow" / "runs"
    (batch,) = runs.iterdir()
    staging = json.loads((batch / "staging.json").read_text())
    assert staging["tables"][STAGED]["dt_sql"] == "DATE '2024-05-06', DATE '2024-05-07'"
    assert staging["tables"][QUARANTINE]["dt_sql"] == ""
    assert (staging["rows_in"], staging["rows_quarantined"], staging["objects_quarantined"]) == (
        21,
        0,
        0,
    )
    mart = json.loads((batch / "mart.json").read_text())
    assert mart["tables"][MART]["dts"] == ["2024-05-06", "2024-05-07"]


def test_a_run_with_nothing_new_runs_green_and_changes_nothing(spark, clean) -> None:
    raw, warehouse, _, _, _ = clean
    before = {name: table(warehouse, name) for name in (STAGED, INTERMEDIATE, MART)}
    code, output = run_local(spark, raw, warehouse, "--dataset", "vpcflow")
    assert code == 0, output
    assert "vpcflow.staging                    0           0            0        0" in output
    assert {name: table(warehouse, name) for name in before} == before
    assert not (warehouse / "_state" / "vpcflow" / "work").exists() or not any(
        (warehouse / "_state" / "vpcflow" / "work").rglob("*.parquet")
    )


def test_empty_and_header_only_objects_are_done_without_quarantine(
    spark, project, tmp_path
) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse"
    write_object(raw, DAY1, "empty.log", b"")
    write_object(raw, DAY1, "empty.log.gz", b"")
    write_object(raw, DAY1, "header.log.gz", f"{V2_HEADER}\n".encode())
    write_object(raw, DAY1, "header-no-newline.log", V2_HEADER.encode())
    locations = local_locations(raw, warehouse)
    steps = run_dataset(spark, project.datasets["vpcflow"], locations, "b1", quiet=True)
    assert [(s.rows_in, s.rows_out, s.rows_quarantined, s.objects_quarantined) for s in steps] == [
        (0, 0, 0, 0)
    ] * 3
    assert table(warehouse, QUARANTINE) == []
    again = run_dataset(spark, project.datasets["vpcflow"], locations, "b2", quiet=True)
    assert again == [] or all(step.rows_in == 0 for step in again)
    processed = list((warehouse / "_state" / "vpcflow" / "raw").rglob("processed/*.json"))
    assert len(processed) == 1
    assert processed[0].read_text().count('"batch": "b1"') == 4


@pytest.fixture(scope="module")
def broken(spark, tmp_path_factory):
    """One batch with every way an object can be broken, beside a clean object."""
    root = tmp_path_factory.mktemp("broken")
    raw, warehouse = root / "raw", root / "warehouse"
    good = clean_lines(DAY1, 6)
    old = flow_line(unix(dt.date(1999, 12, 31)))
    future = flow_line(unix(dt.date.today() + dt.timedelta(days=3)))
    write_flow_log(raw, DAY1, "good.log.gz", [*good, old, future])
    body = gzip.compress(("\n".join([V2_HEADER, *clean_lines(DAY1, 400)]) + "\n").encode())
    truncated = write_object(raw, DAY1, "truncated.log", b"")
    truncated = truncated.rename(truncated.with_name("truncated.log.gz"))
    truncated.write_bytes(body[: len(body) // 2])
    plain_as_gzip = write_object(raw, DAY1, "plain.log", f"{V2_HEADER}\n{good[0]}\n".encode())
    plain_as_gzip = plain_as_gzip.rename(plain_as_gzip.with_name("plain-named.log.gz"))
    write_object(raw, DAY1, "binary.log", bytes(range(256)) * 4)
    write_object(raw, DAY1, "headless.log", ("\n".join(good[:2]) + "\n").encode())
    code, output = run_local(spark, raw, warehouse, "--dataset", "vpcflow")
    sizes = {path.name: path.stat().st_size for path in raw.rglob("*.log*")}
    return raw, warehouse, good, sizes, code, output


def test_broken_objects_are_quarantined_whole_with_reason_key_and_size(broken) -> None:
    _, warehouse, _, sizes, code, output = broken
    assert code == 1, output
    assert "attention: 4 raw object(s) quarantined whole" in output
    objects = table(
        warehouse,
        QUARANTINE,
        "regexp_extract(source_file, '[^/]+$') AS name, reason, object_bytes, raw_line",
        "WHERE line_number = 0",
    )
    assert objects == [
        ("binary.log", "unreadable_object", sizes["binary.log"], ""),
        ("headless.log", "missing_header", sizes["headless.log"], clean_lines(DAY1, 1)[0]),
        ("plain-named.log.gz", "unreadable_object", sizes["plain-named.log.gz"], ""),
        ("truncated.log.gz", "unreadable_object", sizes["truncated.log.gz"], ""),
    ]
    details = dict(
        table(
            warehouse,
            QUARANTINE,
            "regexp_extract(source_file, '[^/]+$'), detail",
            "WHERE line_number = 0",
        )
    )
    assert details["binary.log"].startswith("not text")
    assert details["plain-named.log.gz"].startswith("not gzip")
    assert details["truncated.log.gz"].startswith("could not be read to the end")
    assert details["headless.log"].startswith("first line is not a flow-log header")


def test_the_rest_of_a_broken_batch_is_staged_and_dates_athena_cannot_see_quarantined(
    broken,
) -> None:
    _, warehouse, good, _, _, _ = broken
    assert table(warehouse, STAGED, "count(*)") == [(len(good),)]
    assert table(warehouse, MART, "* EXCLUDE (dt), dt") == mart_by_hand(good)
    dated = table(warehouse, QUARANTINE, "reason, line_number", "WHERE line_number > 0")
    assert dated == [("date_out_of_range", len(good) + 2), ("date_out_of_range", len(good) + 3)]


def test_broken_objects_are_marked_done_and_never_poison_a_later_run(
    spark, project, broken
) -> None:
    raw, warehouse, _, _, _, _ = broken
    before = table(warehouse, QUARANTINE)
    locations = local_locations(raw, warehouse)
    steps = run_dataset(spark, project.datasets["vpcflow"], locations, "again", quiet=True)
    assert steps[0].rows_in == 0
    assert steps[0].objects_quarantined == 0
    assert table(warehouse, QUARANTINE) == before


def test_records_lost_between_read_and_write_fail_the_job_before_any_commit(
    spark, project, tmp_path, monkeypatch
) -> None:
    class LosingParser:
        """The flow-log parser with a bug that drops every staged line 2."""

        classify = staticmethod(PARSER.classify)

        @staticmethod
        def parse(texts, run_date) -> ParsedRecords:
            parsed = PARSER.parse(texts, run_date)
            return ParsedRecords(
                parsed.staged.where("line_number != 2"), parsed.quarantined, parsed.records_read
            )

    module = types.ModuleType("vpcflow.losing")
    module.PARSER = LosingParser()
    monkeypatch.setitem(sys.modules, "vpcflow.losing", module)
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse"
    write_flow_log(raw, DAY1, "a.log", clean_lines(DAY1, 5))
    dataset = project.datasets["vpcflow"]
    staging = dataset.job_graph.job("staging").model_copy(update={"python": "vpcflow.losing"})
    context = job_context(dataset, staging, local_locations(raw, warehouse), "b1")
    with pytest.raises(CountMismatch, match="5 records read but 4 staged \\+ 0 quarantined"):
        run_job(spark, context)
    assert table(warehouse, STAGED) == []
    assert not list(Path(context.state_uri).rglob("processed/*.json"))
