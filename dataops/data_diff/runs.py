"""The two runs a data diff compares: the base commit's and the working tree's.

Both read the same raw sample, generated once by the working tree's generators, so a difference
comes from the code and declarations alone. The base run is that commit's own
``python -m dataops run-local`` in a subprocess, run from a git worktree with the worktree first
on ``PYTHONPATH`` (the venv's path file names the working tree, whose job code must not be
imported), on the Spark driver of the head's session (:mod:`dataops.data_diff.borrowed_driver`):
one JVM for both runs, warm for the head's. It is kept in the work directory with what it was
made from, and reused while those stay the same (a second diff against the same base costs no
base run).

The head run reuses the base run wherever the change cannot reach: a data set's tables and
state are copied from the base run, then only the impacted jobs run, the first of them over
every partition of its inputs (a ``replace`` entry in its queue, as a replay leaves one), the
others as the incremental protocol hands them the rewritten partitions. A data set whose raw
job is impacted (or that the base lacks) runs whole. Why per job rather than per data set: in
a pull request's check the raw job (parsing text) is the costly one, and most changes are to
the models downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dataops.datasets import DATASET_FILE, DataSet
from dataops.declarations import DeclarationError
from dataops.impact import SHORT_COMMIT, Impact
from dataops.job_graph import GLUE_SCRIPTS_DIR, JobSpec
from dataops.local_runner import STATE_DIR, local_locations, run_dataset
from dataops.project import Project
from dataops.samples import generator_for

BASE_BATCH = "data-diff-base"
HEAD_BATCH = "data-diff-head"
# The producer named in the queue entries that make a job recompute all of its inputs.
PRODUCER = "data-diff"
CLI_MODULE = "dataops/cli.py"
RUN_LOCAL_MODULE = "dataops/local_runner.py"
RUN_RECORD = "run.json"
RUN_LOG = "run-local.log"
# run-local exits 1 when a check failed: the base's tables are still there to compare.
BASE_EXITS = (0, 1)
# A sample within run-local's small batch runs on the heap of the tests' session.
SMALL_SAMPLE_HEAP = "512m"
BORROWED_DRIVER = Path(__file__).with_name("borrowed_driver.py")


@dataclass(frozen=True)
class Sample:
    """The generators' options, the same for both runs."""

    records: int
    seed: int
    days: int


def generate_sample(project: Project, names: list[str], sample: Sample, raw: Path) -> str:
    """Write the raw sample of data sets ``names`` into ``raw``; a fingerprint of its bytes."""
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    for name in names:
        generate = generator_for(project.datasets[name])
        if generate is not None:
            generate(raw, sample.records, sample.seed, sample.days, keep_records=False)
    digest = hashlib.sha256()
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        digest.update(path.relative_to(raw).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


def has_workflow(root: Path, commit: str) -> bool:
    """Whether ``commit`` has ``python -m dataops run-local`` (its command table names it)."""
    return _git(root, "grep", "-q", "-F", '"run-local"', commit, "--", CLI_MODULE).returncode == 0


def present_at(root: Path, commit: str, names: list[str]) -> list[str]:
    """Those of the data sets ``names`` that ``commit`` declares."""
    folder = GLUE_SCRIPTS_DIR.as_posix()
    return [
        name
        for name in names
        if _git(root, "cat-file", "-e", f"{commit}:{folder}/{name}/{DATASET_FILE}").returncode == 0
    ]


@contextmanager
def checkout(root: Path, commit: str) -> Iterator[Path]:
    """A git worktree of ``commit`` in a temporary directory, removed afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="data-diff-base-"))
    tree = scratch / "checkout"
    added = _git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
    if added.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise DeclarationError(
            [f"--base: cannot check out {commit[:SHORT_COMMIT]}: {added.stderr.strip()}"]
        )
    try:
        yield tree
    finally:
        _git(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(scratch, ignore_errors=True)
        _git(root, "worktree", "prune")


def base_environment(tree: Path, spark: Any) -> dict[str, str]:
    """The base's own code first on the path, ahead of the venv's path file, and the address
    of ``spark``'s driver (PySpark's own variables), which the base run borrows."""
    gateway = spark.sparkContext._gateway.gateway_parameters
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree), str(tree / GLUE_SCRIPTS_DIR)]),
        "PYSPARK_GATEWAY_PORT": str(gateway.port),
        "PYSPARK_GATEWAY_SECRET": gateway.auth_token,
    }


def run_on_driver(spark: Any, tree: Path, arguments: list[str], output: IO[str]) -> int:
    """``python -m dataops ARGUMENTS`` of the code in ``tree``, in a process of its own on the
    driver of ``spark``, its output into ``output``; its exit code."""
    try:
        return subprocess.run(
            [sys.executable, "-P", str(BORROWED_DRIVER), *arguments],
            cwd=tree,
            env=base_environment(tree, spark),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    finally:
        # The other process's session became the driver's default: the head's is again.
        spark._jvm.SparkSession.setDefaultSession(spark._jsparkSession)


def sample_heap(text_bytes: int) -> str | None:
    """Both runs' driver heap for a sample of ``text_bytes`` of log text (None: run-local's)."""
    from jobkit.session import SMALL_BATCH_TEXT_BYTES

    return SMALL_SAMPLE_HEAP if text_bytes <= SMALL_BATCH_TEXT_BYTES else None


@dataclass(frozen=True)
class BaseRun:
    """The base run's warehouse and how it went."""

    warehouse: Path
    exit_code: int
    log: Path
    reused: bool


def run_base(
    root: Path,
    commit: str,
    names: list[str],
    *,
    raw: Path,
    work: Path,
    fingerprint: str,
    spark: Any,
) -> BaseRun:
    """The base commit's run of data sets ``names`` on ``raw`` into ``work/warehouse``, on the
    driver of the head's session ``spark``, or the kept one when it was made from the same
    commit, data sets and sample."""
    warehouse, record, log = work / "warehouse", work / RUN_RECORD, work / RUN_LOG
    key = {"commit": commit, "datasets": names, "sample": fingerprint}
    if record.is_file():
        kept = json.loads(record.read_text(encoding="utf-8"))
        if kept["key"] == key and warehouse.is_dir():
            return BaseRun(warehouse, kept["exit_code"], log, reused=True)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # A base from before data sets were declared has no --dataset and runs everything.
    selects = _git(root, "grep", "-q", "-e", "--dataset", commit, "--", RUN_LOCAL_MODULE)
    selection = [f"--dataset={name}" for name in names] if selects.returncode == 0 else []
    arguments = ["--raw", str(raw), "--warehouse", str(warehouse), "--batch-id", BASE_BATCH]
    with checkout(root, commit) as tree, log.open("w", encoding="utf-8") as output:
        exit_code = run_on_driver(spark, tree, ["run-local", *arguments, *selection], output)
    if exit_code not in BASE_EXITS:
        tail = " / ".join(log.read_text(encoding="utf-8").strip().splitlines()[-2:])
        raise DeclarationError(
            [
                f"--base: the run-local of {commit[:SHORT_COMMIT]} failed (exit {exit_code}: "
                f"{tail[:300]}); fix: see {log}"
            ]
        )
    record.write_text(json.dumps({"key": key, "exit_code": exit_code}), encoding="utf-8")
    return BaseRun(warehouse, exit_code, log, reused=False)


@dataclass(frozen=True)
class HeadPlan:
    """What the head run does for one data set: ``jobs`` it runs, ``reused`` jobs whose
    tables it copies from the base run."""

    dataset: str
    jobs: tuple[str, ...]
    reused: tuple[str, ...]


def plan_head(project: Project, impact: Impact, in_base: list[str]) -> list[HeadPlan]:
    """The head run of every data set with an impacted job."""
    plans = []
    for name, entry in impact.datasets.items():
        if not entry.jobs:
            continue
        graph = project.datasets[name].job_graph
        whole = name not in in_base or graph.raw_jobs[0].name in entry.jobs
        jobs = tuple(graph.names) if whole else entry.jobs
        plans.append(HeadPlan(name, jobs, tuple(n for n in graph.names if n not in jobs)))
    return plans


def _partitions(location: Path) -> tuple[str, ...]:
    """The ``dt`` partitions of a local table that hold data."""
    return tuple(
        sorted(
            path.name.removeprefix("dt=")
            for path in location.glob("dt=*")
            if any(path.glob("*.parquet"))
        )
    )


def _copy_from_base(dataset: DataSet, base: Path, head: Path) -> None:
    """The data set's tables and state as the base run left them."""
    for name in [*dataset.contracts, f"{STATE_DIR}/{dataset.name}"]:
        if (base / name).is_dir():
            shutil.copytree(base / name, head / name)


def _recompute_inputs(dataset: DataSet, job: JobSpec, raw: Path, head: Path) -> None:
    """Queue every partition of ``job``'s inputs for it as rewritten, so it recomputes all of
    its output (the way a replay makes a downstream job do)."""
    from dataops.job_contexts import job_context
    from jobkit.ledger import Ledger, TableWrite
    from jobkit.storage import LocalStorage

    context = job_context(dataset, job, local_locations(raw, head), HEAD_BATCH)
    writes = {
        table: TableWrite("replace", _partitions(Path(context.location(table))))
        for table in job.input_tables
    }
    Ledger(LocalStorage(), context).enqueue((job.name,), PRODUCER, HEAD_BATCH, writes)


def run_head(
    spark: Any, project: Project, plans: list[HeadPlan], *, raw: Path, base: Path, head: Path
) -> None:
    """The head run of ``plans`` into ``head``, reusing the base run's warehouse ``base``."""
    shutil.rmtree(head, ignore_errors=True)
    head.mkdir(parents=True)
    for plan in plans:
        dataset = project.datasets[plan.dataset]
        if plan.reused:
            _copy_from_base(dataset, base, head)
            rerun = [job for job in dataset.job_graph.jobs if job.name in plan.jobs]
            produced = {table for job in rerun for table in job.outputs}
            for job in rerun:
                # The first jobs the change reaches; those after them follow incrementally.
                if not set(job.input_tables) & produced:
                    _recompute_inputs(dataset, job, raw, head)
        run_dataset(spark, dataset, local_locations(raw, head), HEAD_BATCH, jobs=plan.jobs)
