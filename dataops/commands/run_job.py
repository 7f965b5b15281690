"""``run-job``: run one job of a data set's workflow by hand, in a deployed environment.

Starts the deployed Glue job with its default arguments (those the CDK app wrote from the job
graph) and a batch of its own, ``--batch_id manual-<time>``, then waits for it (bounded). The
job does what a run of the workflow would make it do: a raw job processes the objects not
processed yet, a model job what is queued for it; what it writes is queued for the jobs
downstream, which the next workflow run processes. The data checks of the workflow do not
run. Not while the data set's workflow runs: the two would race over the same batches.

Exit 0: SUCCEEDED (or started, with ``--no-wait``); 1: the job failed, is still running at the
deadline, the workflow is running, or an AWS error; 2: usage error (unknown job or data set).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.datasets import DataSet
from dataops.declarations import DeclarationError
from dataops.deployed_environment import (
    DeployedEnvironment,
    add_role_arguments,
    add_wait_arguments,
    connect,
    environment_named,
    on_aws,
    wait_limits,
)
from dataops.project import PROJECT_ROOT, Project, load_project
from dataops.resource_names import glue_job_name

if TYPE_CHECKING:
    from dataops.integration.pacing import Pacing
    from dataops.integration.workflow import WaitLimits

COMMAND = "run-job"
SUCCEEDED = "SUCCEEDED"
# Glue's states of a run that has not ended.
RUNNING_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="NAME", help="the job's name in its data set's job graph")
    parser.add_argument("--env", required=True, help="environment name from the config")
    parser.add_argument(
        "--dataset", default=None, help="the job's data set (needed when several have the job)"
    )
    parser.add_argument(
        "--no-wait", dest="wait", action="store_false", help="only start the job run"
    )
    add_wait_arguments(parser, "the job run", 7200.0)
    add_role_arguments(parser)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def _jobs(dataset: DataSet) -> str:
    return ", ".join(dataset.job_graph.names)


def dataset_of_job(project: Project, job: str, dataset: str | None) -> DataSet:
    """The data set whose job graph has ``job`` (``dataset`` when given); anything else is a
    usage error naming the jobs there are."""
    candidates = project.select([dataset] if dataset else None)
    having = [candidate for candidate in candidates if job in candidate.job_graph.names]
    if len(having) == 1:
        return having[0]
    if len(having) > 1:
        names = ", ".join(candidate.name for candidate in having)
        raise DeclarationError(
            [f"job '{job}' is in the data sets {names}; fix: pass --dataset with one of them"]
        )
    if dataset:
        fix = f"use one of {_jobs(candidates[0])}"
        raise DeclarationError([f"data set '{dataset}' has no job '{job}'; fix: {fix}"])
    known = "; ".join(f"{candidate.name}: {_jobs(candidate)}" for candidate in candidates)
    raise DeclarationError([f"no data set has a job '{job}'; fix: use one of ({known})"])


@dataclass(frozen=True)
class JobRunEnd:
    state: str
    seconds: float
    detail: str


def wait_for_job_run(
    target: DeployedEnvironment, job_name: str, run_id: str, limits: WaitLimits, pacing: Pacing
) -> JobRunEnd:
    """Poll the run until it ends or the deadline passes (a run still going is left to go on)."""
    glue = target.clients.glue
    started = pacing.clock()
    deadline = started + limits.timeout_seconds
    while True:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        state, elapsed = run["JobRunState"], pacing.clock() - started
        pacing.echo(f"  {job_name}: {state} after {elapsed:.0f} s")
        if state not in RUNNING_STATES:
            reason = f": {run['ErrorMessage']}" if run.get("ErrorMessage") else ""
            return JobRunEnd(state, elapsed, f"{state} after {elapsed:.0f} s{reason}")
        remaining = deadline - pacing.clock()
        if remaining <= 0:
            detail = f"still {state} after {limits.timeout_seconds:.0f} s; left running"
            return JobRunEnd(state, elapsed, detail)
        pacing.sleep(min(limits.poll_seconds, remaining))


def _counts(target: DeployedEnvironment, dataset: DataSet, batch_id: str, job: str) -> str:
    """The run record's counts, as one line (empty when the job left none)."""
    from dataops.integration.resources import RUN_COUNTS
    from jobkit.storage import S3Storage

    uri = target.resources.run_record_uri(dataset, batch_id, job)
    record = S3Storage(target.clients.s3).read_json(uri)
    if not record:
        return ""
    return ", ".join(f"{key.replace('_', ' ')} {record.get(key, 0):,}" for key in RUN_COUNTS)


def _run(target: DeployedEnvironment, dataset: DataSet, job: str, wait: WaitLimits | None) -> int:
    from dataops.integration.pacing import Pacing
    from dataops.integration.workflow import running_executions, stamp

    env = target.environment.name
    machine = target.resources.state_machine_arn(dataset.name)
    running = running_executions(target.clients.sfn, machine)
    if running:
        print(
            f"error: {dataset.name}: execution {running[0]['name']} of the workflow is running, "
            f"so {job} was not started; fix: run it when the execution ends (python -m dataops "
            f"status --env {env} --dataset {dataset.name})",
            file=sys.stderr,
        )
        return EXIT_CHECK_FAILED
    name = glue_job_name(target.project.config.project, env, dataset.name, job)
    batch_id = f"manual-{stamp()}"
    run_id = target.clients.glue.start_job_run(JobName=name, Arguments={"--batch_id": batch_id})[
        "JobRunId"
    ]
    print(f"{dataset.name}: started {name} run {run_id} (batch {batch_id})")
    if wait is None:
        return EXIT_OK
    end = wait_for_job_run(target, name, run_id, wait, Pacing())
    counts = _counts(target, dataset, batch_id, job) if end.state == SUCCEEDED else ""
    print(f"{dataset.name}: {name} {end.detail}" + (f" ({counts})" if counts else ""))
    return EXIT_OK if end.state == SUCCEEDED else EXIT_CHECK_FAILED


def main(args: argparse.Namespace) -> int:
    limits = wait_limits(args)
    project = load_project(args.root)
    environment = environment_named(project, args.env)
    dataset = dataset_of_job(project, args.job, args.dataset)
    return on_aws(
        lambda: _run(
            connect(args, project, environment, [dataset], COMMAND),
            dataset,
            args.job,
            limits if args.wait else None,
        )
    )
