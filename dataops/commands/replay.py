"""``replay``: reprocess the raw objects delivered on a range of dates, in a deployed environment.

For each data set asked for (default: every one) that has raw objects delivered in the range,
starts its data workflow with ``{"replay": "FROM..TO"}``: the raw job reads every object
delivered on those dates again, processed before or not, and replaces the rows those objects
gave before, so a replay run twice (or over objects never processed) never doubles a row; the
downstream jobs recompute what changed. A range with no delivered object starts nothing.
A data set whose workflow is already running is not replayed (two runs would race over the
same objects): nothing starts until it ends.

Exit 0: started (with ``--wait``: and SUCCEEDED), or nothing to replay; 1: a workflow running,
failed or still running at the deadline, or an AWS error; 2: usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
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
from dataops.project import PROJECT_ROOT, add_datasets_argument, load_project
from jobkit.context import DateRange

if TYPE_CHECKING:
    from dataops.integration.workflow import WaitLimits

COMMAND = "replay"
MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment name from the config")
    add_datasets_argument(parser)
    parser.add_argument(
        "--from",
        dest="first",
        required=True,
        metavar="DATE",
        help="first delivery date, YYYY-MM-DD",
    )
    parser.add_argument(
        "--to", dest="last", required=True, metavar="DATE", help="last delivery date, YYYY-MM-DD"
    )
    parser.add_argument("--wait", action="store_true", help="wait for the replays to end (bounded)")
    add_wait_arguments(parser, "the replays with --wait", 3600.0)
    add_role_arguments(parser)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def _date(option: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DeclarationError(
            [f"{option}: '{text}' is not a date; fix: write it as YYYY-MM-DD, e.g. 2024-05-06"]
        ) from None


def date_range(first: str, last: str) -> DateRange:
    """``--from`` and ``--to`` as the inclusive range the workflow's ``replay`` input names."""
    start, end = _date("--from", first), _date("--to", last)
    if start > end:
        raise DeclarationError(
            [f"--from {start} is after --to {end}; fix: pass the earlier date as --from"]
        )
    return DateRange(start, end)


def execution_name(dates: DateRange, stamp: str) -> str:
    return f"replay-{dates.first}-{dates.last}-{stamp}"


def _delivered(target: DeployedEnvironment, dataset: DataSet, dates: DateRange) -> tuple[int, int]:
    """How many raw objects of ``dataset`` were delivered on ``dates``, and their bytes."""
    from dataops.integration.resources import raw_layout
    from jobkit.raw_source import list_delivered
    from jobkit.storage import S3Storage

    raw_uri = target.resources.raw_uri(dataset.spec.raw.prefix)
    storage = S3Storage(target.clients.s3)
    objects = list_delivered(storage, raw_uri, raw_layout(dataset), dates=dates)
    return len(objects), sum(item.size for item in objects)


def _replay(
    target: DeployedEnvironment,
    datasets: list[DataSet],
    dates: DateRange,
    wait: WaitLimits | None,
) -> int:
    from dataops.integration.pacing import Pacing
    from dataops.integration.workflow import (
        running_executions,
        stamp,
        start_execution,
        wait_for_executions,
    )

    sfn, resources, env = target.clients.sfn, target.resources, target.environment.name
    wanted: dict[str, tuple[int, int]] = {}
    for dataset in datasets:
        count, size = _delivered(target, dataset, dates)
        if count:
            wanted[dataset.name] = (count, size)
        else:
            where = resources.raw_uri(dataset.spec.raw.prefix)
            print(f"{dataset.name}: no raw object delivered {dates} under {where}; nothing to do")
    busy = [
        (dataset, execution["name"])
        for dataset in wanted
        for execution in running_executions(sfn, resources.state_machine_arn(dataset))
    ]
    if busy:
        dataset, execution = busy[0]
        print(
            f"error: {dataset}: execution {execution} is running, so nothing was replayed; fix: "
            f"replay when it ends (python -m dataops status --env {env} --dataset {dataset})",
            file=sys.stderr,
        )
        return EXIT_CHECK_FAILED
    name = execution_name(dates, stamp())
    started = {}
    for dataset, (count, size) in wanted.items():
        arn = start_execution(
            sfn, resources.state_machine_arn(dataset), name, {"replay": str(dates)}
        )
        started[dataset] = arn
        print(
            f"{dataset}: replaying {count} raw object(s) ({size / MIB:.1f} MiB) delivered "
            f"{dates}: started {arn}"
        )
    if not started:
        return EXIT_OK
    if wait is None:
        print(f"follow it with: python -m dataops status --env {env}")
        return EXIT_OK
    ends = wait_for_executions(sfn, started, wait, Pacing(), stop_at_deadline=False)
    for dataset, end in ends.items():
        print(f"{dataset}: {name} {end.detail}")
    return EXIT_OK if all(end.succeeded for end in ends.values()) else EXIT_CHECK_FAILED


def main(args: argparse.Namespace) -> int:
    dates = date_range(args.first, args.last)
    limits = wait_limits(args)
    project = load_project(args.root)
    environment = environment_named(project, args.env)
    datasets = project.select(args.dataset)
    return on_aws(
        lambda: _replay(
            connect(args, project, environment, datasets, COMMAND),
            datasets,
            dates,
            limits if args.wait else None,
        )
    )
