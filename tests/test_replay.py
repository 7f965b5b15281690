"""A replay reprocesses the raw objects of a range of delivery dates, replacing their rows.

Replaying unchanged objects changes no table (nothing doubles); replaying an object that was
fixed in place replaces what it produced before, downstream included; objects delivered on
other dates keep their rows and their batch.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dataops.local_runner import local_locations, run_dataset
from jobkit.context import DateRange
from tests.local_runs import table
from tests.raw_objects import clean_lines, flow_line, unix, write_flow_log

pytestmark = pytest.mark.xdist_group("spark")

DAY1, DAY2 = dt.date(2024, 5, 6), dt.date(2024, 5, 7)
STAGED, QUARANTINE = "staging_raw_vpcflowlogs", "quarantine_vpcflowlogs"
INTERMEDIATE, MART = "inter_model_flowlogs", "data_app_conn_stats"
# Which run loaded a row: a replay loads its objects' rows again.
LINEAGE = "* EXCLUDE (ingested_at, ingest_batch_id)"


def _tables(warehouse) -> dict[str, list[tuple]]:
    return {
        STAGED: table(warehouse, STAGED, LINEAGE),
        QUARANTINE: table(warehouse, QUARANTINE, LINEAGE),
        INTERMEDIATE: table(warehouse, INTERMEDIATE),
        MART: table(warehouse, MART),
    }


@pytest.fixture(scope="module")
def replayed(spark, project, tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    raw, warehouse = root / "raw", root / "warehouse"
    bad = flow_line(unix(DAY1, 7200), "10.9.9.9").replace(" ACCEPT ", " ALLOW ")
    fixable = write_flow_log(raw, DAY1, "fixable.log", [*clean_lines(DAY1, 3), bad])
    write_flow_log(raw, DAY1, "other.log.gz", clean_lines(DAY1, 4, offset=10))
    write_flow_log(raw, DAY2, "later.log.gz", clean_lines(DAY2, 5))
    dataset, locations = project.datasets["vpcflow"], local_locations(raw, warehouse)
    run_dataset(spark, dataset, locations, "first", quiet=True)
    first = _tables(warehouse)
    same = DateRange(DAY1, DAY1)
    steps = run_dataset(spark, dataset, locations, "replay-same", replay=same, quiet=True)
    unchanged = _tables(warehouse)
    write_flow_log(
        raw, DAY1, "fixable.log", [*clean_lines(DAY1, 3), bad.replace("ALLOW", "ACCEPT")]
    )
    run_dataset(spark, dataset, locations, "replay-fixed", replay=same, quiet=True)
    return warehouse, first, steps, unchanged, _tables(warehouse), fixable


def test_replaying_unchanged_objects_changes_no_table(replayed) -> None:
    _, first, steps, unchanged, _, _ = replayed
    assert steps[0].rows_in == 8
    assert unchanged == first
    assert len(first[STAGED]) == 12


def test_replaying_a_fixed_object_replaces_its_rows_everywhere(replayed) -> None:
    warehouse, first, _, _, fixed, _ = replayed
    assert fixed[QUARANTINE] == []
    assert len(fixed[STAGED]) == len(first[STAGED]) + 1
    assert len(fixed[INTERMEDIATE]) == len(first[INTERMEDIATE]) + 1
    new_source = [row for row in table(warehouse, MART) if row[0] == "10.9.9.9"]
    assert [(row[0], row[2], row[3]) for row in new_source] == [("10.9.9.9", 10, 840)]


def test_a_replay_leaves_other_dates_rows_and_batches_alone(replayed) -> None:
    warehouse, _, _, _, _, _ = replayed
    batches = table(
        warehouse,
        STAGED,
        "regexp_extract(source_file, '[^/]+$') AS name, ingest_batch_id, count(*)",
        "GROUP BY ALL",
    )
    assert batches == [
        ("fixable.log", "replay-fixed", 4),
        ("later.log.gz", "first", 5),
        ("other.log.gz", "replay-fixed", 4),
    ]
