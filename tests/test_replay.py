"""A replay reprocesses the raw objects of a range of delivery dates, replacing their rows.

Replaying unchanged objects changes no table (nothing doubles); replaying an object that was
fixed in place replaces what it produced before, downstream included; objects delivered on
other dates keep their rows and their batch.
"""

from __future__ import annotations

import shutil

import pytest

from dataops.local_runner import local_locations, run_dataset
from jobkit.context import DateRange
from tests.local_runs import DAY1, FIRST_BATCH, fixable_lines, table
from tests.raw_objects import write_flow_log

pytestmark = pytest.mark.xdist_group("spark")

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
def replayed(spark, project, flow_run, tmp_path_factory):
    """Replays on a copy of the shared clean run's warehouse (batch FIRST_BATCH), on its raw
    objects: fixable.log is fixed in place for the second replay, and put back after it."""
    raw, warehouse = flow_run.raw, tmp_path_factory.mktemp("replay") / "warehouse"
    shutil.copytree(flow_run.warehouse, warehouse)
    dataset, locations = project.datasets["vpcflow"], local_locations(raw, warehouse)
    first = _tables(warehouse)
    same = DateRange(DAY1, DAY1)
    steps = run_dataset(spark, dataset, locations, "replay-same", replay=same, quiet=True)
    unchanged = _tables(warehouse)
    fixable = write_flow_log(raw, DAY1, "fixable.log", fixable_lines("ACCEPT"))
    try:
        run_dataset(spark, dataset, locations, "replay-fixed", replay=same, quiet=True)
    finally:
        write_flow_log(raw, DAY1, "fixable.log", fixable_lines())
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
        ("later.log.gz", FIRST_BATCH, 5),
        ("other.log.gz", "replay-fixed", 4),
    ]
