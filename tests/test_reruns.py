"""Every job is safe to run again with the same batch id, wherever its last attempt stopped.

Each case stops one job at one point of its run (:mod:`jobkit.faults`), runs it again with the
same batch id, and compares everything it owns (its tables, the queues it fills, its run
record, the raw objects it marked processed) with what one clean run of that job left. The
points cover a failure before any write, after part of the output was written or committed,
and after every table was committed but before the bookkeeping: what Step Functions retries
and redrives of a Glue job meet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dataops.job_contexts import job_context
from dataops.local_runner import local_locations
from jobkit import faults
from jobkit.runner import run_job
from tests.local_runs import FIRST_BATCH, FLOW_JOBS, table

pytestmark = pytest.mark.xdist_group("spark")

# The batch of the shared clean run (the ``flow_run`` fixture), retried here.
BATCH = FIRST_BATCH
JOBS = FLOW_JOBS
# Columns that name the moment a run started: another run of the same batch writes its own.
RUN_TIME_COLUMNS = ("ingested_at",)
# Before any write, after part of the output reached the tables, after every table but before
# the bookkeeping; and, for the job with two outputs, after one was written and not the other.
CASES = [
    *(
        (job, point)
        for job in JOBS
        for point in ("before_write", "partial_commit", "before_bookkeeping")
    ),
    ("staging", "partial_write"),
]


def _run(spark, project, raw: Path, warehouse: Path, job: str) -> None:
    dataset = project.datasets["vpcflow"]
    spec = dataset.job_graph.job(job)
    run_job(spark, job_context(dataset, spec, local_locations(raw, warehouse), BATCH))


def owned_by(project, warehouse: Path, job: str) -> dict[str, object]:
    """Everything ``job`` leaves behind: its tables' rows and its part of the state."""
    dataset = project.datasets["vpcflow"]
    spec = dataset.job_graph.job(job)
    state = warehouse / "_state" / "vpcflow"
    owned: dict[str, object] = {}
    for name in spec.outputs:
        columns = [
            c.name for c in dataset.contracts[name].columns if c.name not in RUN_TIME_COLUMNS
        ]
        owned[name] = table(warehouse, name, ", ".join(f'"{c}"' for c in columns))
    documents = [*state.glob("queues/*/*/*.json"), *state.glob(f"runs/*/{job}.json")]
    if spec.incremental == "raw_objects":
        documents += [*state.glob("raw/*/processed/*.json"), *state.glob("raw/*/watermark.json")]
    for path in documents:
        owned[str(path.relative_to(state))] = json.loads(path.read_text())
    work = state / "work" / job
    owned["work left behind"] = sorted(p.name for p in work.rglob("*")) if work.exists() else []
    return owned


@pytest.fixture(scope="module")
def snapshots(project, flow_run):
    """The warehouse before and after each job of one clean run of the batch: what each job
    left is what the next one started from."""
    left = [*(flow_run.before[job] for job in JOBS[1:]), flow_run.warehouse]
    after = dict(zip(JOBS, left, strict=True))
    taken = {}
    for job in JOBS:
        taken[f"before {job}"] = flow_run.before[job]
        taken[f"after {job}"] = owned_by(project, after[job], job)
    taken["after every job"] = flow_run.warehouse
    return flow_run.raw, taken


@pytest.mark.parametrize(("job", "point"), CASES)
def test_a_rerun_after_a_failure_leaves_what_one_clean_run_leaves(
    spark, project, snapshots, tmp_path, job, point
) -> None:
    raw, taken = snapshots
    warehouse = tmp_path / "warehouse"
    shutil.copytree(taken[f"before {job}"], warehouse)
    faults.arm(job, point)
    try:
        with pytest.raises(faults.InjectedFault):
            _run(spark, project, raw, warehouse, job)
    finally:
        faults.disarm()
    _run(spark, project, raw, warehouse, job)
    after = owned_by(project, warehouse, job)
    assert after == taken[f"after {job}"]
    assert any(rows for name, rows in after.items() if not name.endswith(".json") and rows)


def test_a_rerun_after_success_adds_nothing(spark, project, snapshots, tmp_path) -> None:
    """Each job run again on the warehouse its own clean run left."""
    raw, taken = snapshots
    left_by = dict(
        zip(JOBS, [*(f"before {job}" for job in JOBS[1:]), "after every job"], strict=True)
    )
    for job in JOBS:
        warehouse = tmp_path / job
        shutil.copytree(taken[left_by[job]], warehouse)
        _run(spark, project, raw, warehouse, job)
        assert owned_by(project, warehouse, job) == taken[f"after {job}"]
