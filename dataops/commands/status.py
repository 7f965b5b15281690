"""``status``: what each data set of a deployed environment has been doing, at a glance.

Per data set: its last executions (the execution name is the batch id of its jobs), each with
its status, start and duration and, from the run records the jobs left, every job's rows in,
out and quarantined and objects quarantined; the newest raw object, found without listing the
landing zone: the layout's account and region folders, and below each only the newest year,
month and day folders; and the newest partition of each mart table. Plain text for people,
``--json`` for machines. Only reads. Exit 0; 1 on an AWS error; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dataops.cli import EXIT_OK
from dataops.datasets import DataSet
from dataops.declarations import DeclarationError
from dataops.deployed_environment import (
    DeployedEnvironment,
    add_role_arguments,
    connect,
    environment_named,
    on_aws,
)
from dataops.integration.resources import RUN_COUNTS
from dataops.project import PROJECT_ROOT, add_datasets_argument, load_project

if TYPE_CHECKING:
    from jobkit.storage import Storage

COMMAND = "status"
MAX_EXECUTIONS = 100
_YEAR_FOLDER = re.compile(r"/\d{4}/$")
_TWO_DIGIT_FOLDER = re.compile(r"/\d{2}/$")
_FIRST_DATE_SEGMENT = "{yyyy}"


@dataclass(frozen=True)
class JobCounts:
    """One job's counts in one execution, from its run record."""

    rows_in: int
    rows_out: int
    rows_quarantined: int
    objects_quarantined: int


@dataclass(frozen=True)
class ExecutionStatus:
    name: str
    status: str
    started: datetime
    stopped: datetime | None
    seconds: float
    # Every job of the data set's graph; None when it left no run record in this execution.
    jobs: dict[str, JobCounts | None]


@dataclass(frozen=True)
class RawObjectStatus:
    uri: str
    last_modified: datetime
    size: int


@dataclass(frozen=True)
class DataSetStatus:
    name: str
    state_machine_arn: str
    executions: list[ExecutionStatus]
    newest_raw_object: RawObjectStatus | None
    # Each mart table's newest partition value (YYYY-MM-DD), None when it has none yet.
    newest_partitions: dict[str, str | None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment name from the config")
    add_datasets_argument(parser)
    parser.add_argument(
        "--executions",
        type=int,
        default=5,
        help="how many of the last executions to show (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document for machines")
    add_role_arguments(parser)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def _executions(
    target: DeployedEnvironment, dataset: DataSet, count: int, now: datetime
) -> list[ExecutionStatus]:
    from jobkit.storage import S3Storage

    resources = target.resources
    arn = resources.state_machine_arn(dataset.name)
    listed = target.clients.sfn.list_executions(stateMachineArn=arn, maxResults=count)
    state = S3Storage(target.clients.s3)
    executions = []
    for execution in listed["executions"]:
        jobs: dict[str, JobCounts | None] = {}
        for job in dataset.job_graph.names:
            record = state.read_json(resources.run_record_uri(dataset, execution["name"], job))
            jobs[job] = JobCounts(*(int(record.get(k, 0)) for k in RUN_COUNTS)) if record else None
        started, stopped = execution["startDate"], execution.get("stopDate")
        executions.append(
            ExecutionStatus(
                name=execution["name"],
                status=execution["status"],
                started=started,
                stopped=stopped,
                seconds=((stopped or now) - started).total_seconds(),
                jobs=jobs,
            )
        )
    return executions


def _source_folders(storage: Storage, raw_uri: str, layout: str) -> list[str]:
    """Every folder the layout's placeholders before the date lead to (account, region)."""
    folders = [raw_uri.rstrip("/") + "/"]
    for segment in layout.strip("/").split("/"):
        if segment == _FIRST_DATE_SEGMENT:
            break
        if segment.startswith("{"):
            folders = [found for folder in folders for found in storage.list_folders(folder)]
        else:
            folders = [f"{folder}{segment}/" for folder in folders]
    return folders


def _newest_first(storage: Storage, folder: str, pattern: re.Pattern[str]) -> list[str]:
    return sorted((f for f in storage.list_folders(folder) if pattern.search(f)), reverse=True)


def _objects(target: DeployedEnvironment, folder: str, suffixes: tuple[str, ...]) -> list:
    bucket, prefix = folder.removeprefix("s3://").split("/", 1)
    pages = target.clients.s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix
    )
    return [
        RawObjectStatus(f"s3://{bucket}/{item['Key']}", item["LastModified"], int(item["Size"]))
        for page in pages
        for item in page.get("Contents", [])
        if item["Key"].endswith(suffixes)
    ]


def newest_raw_object(target: DeployedEnvironment, dataset: DataSet) -> RawObjectStatus | None:
    """The data set's raw object modified last, looked for in the newest day folder (with an
    object) of each account and region."""
    from jobkit.storage import S3Storage

    storage = S3Storage(target.clients.s3)
    raw = dataset.spec.raw
    suffixes = tuple(raw.suffixes)
    newest: list[RawObjectStatus] = []
    for source in _source_folders(storage, target.resources.raw_uri(raw.prefix), raw.layout):
        found = next(
            (
                objects
                for year in _newest_first(storage, source, _YEAR_FOLDER)
                for month in _newest_first(storage, year, _TWO_DIGIT_FOLDER)
                for day in _newest_first(storage, month, _TWO_DIGIT_FOLDER)
                if (objects := _objects(target, day, suffixes))
            ),
            [],
        )
        newest.extend(found)
    return max(newest, key=lambda item: (item.last_modified, item.uri), default=None)


def newest_partitions(target: DeployedEnvironment, dataset: DataSet) -> dict[str, str | None]:
    """Each mart table's newest ``<key>=YYYY-MM-DD`` folder under its location."""
    from jobkit.storage import S3Storage

    storage = S3Storage(target.clients.s3)
    partitions: dict[str, str | None] = {}
    for table, contract in sorted(dataset.contracts.items()):
        if contract.layer != "mart":
            continue
        location = target.resources.table_location(dataset, table)
        pattern = re.compile(
            rf"/{re.escape(contract.partition_keys[0])}=(\d{{4}}-\d{{2}}-\d{{2}})/$"
        )
        values = [
            m.group(1) for f in storage.list_folders(location.uri) if (m := pattern.search(f))
        ]
        partitions[table] = max(values, default=None)
    return partitions


def collect(
    target: DeployedEnvironment, datasets: list[DataSet], executions: int, now: datetime
) -> list[DataSetStatus]:
    return [
        DataSetStatus(
            name=dataset.name,
            state_machine_arn=target.resources.state_machine_arn(dataset.name),
            executions=_executions(target, dataset, executions, now),
            newest_raw_object=newest_raw_object(target, dataset),
            newest_partitions=newest_partitions(target, dataset),
        )
        for dataset in datasets
    ]


def _time(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _columns(rows: list[list[str]], indent: str, numeric_from: int) -> list[str]:
    """``rows`` (the first is the header) in aligned columns; those from ``numeric_from`` on
    right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent
        + "  ".join(
            cell.rjust(width) if i >= numeric_from else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def render(target: DeployedEnvironment, statuses: list[DataSetStatus]) -> str:
    lines = [f"status of {target.describe()}"]
    for status in statuses:
        lines += ["", f"data set {status.name} ({status.state_machine_arn})"]
        raw = status.newest_raw_object
        lines.append(
            f"  newest raw object: {_time(raw.last_modified)} UTC, {_size(raw.size)}, {raw.uri}"
            if raw
            else "  newest raw object: none delivered"
        )
        for table, value in status.newest_partitions.items():
            lines.append(f"  newest partition of {table}: {value or 'none yet'}")
        if not status.executions:
            lines.append("  executions: none yet")
            continue
        lines.append(f"  last {len(status.executions)} execution(s), newest first:")
        header = ["execution (batch)", "status", "started (UTC)", "duration"]
        lines += _columns(
            [header]
            + [
                [e.name, e.status, _time(e.started), _duration(e.seconds)]
                for e in status.executions
            ],
            "    ",
            numeric_from=len(header),
        )
        for execution in status.executions:
            if not any(execution.jobs.values()):
                lines.append(f"    {execution.name}: no run records")
                continue
            lines.append(f"    {execution.name}:")
            counts = [
                [job, *(f"{getattr(c, key):,}" for key in RUN_COUNTS)]
                if c
                else [job, *["-"] * len(RUN_COUNTS)]
                for job, c in execution.jobs.items()
            ]
            header = ["job", "rows in", "rows out", "quarantined", "objects quarantined"]
            lines += _columns([header, *counts], "      ", numeric_from=1)
    return "\n".join(lines)


def as_json(target: DeployedEnvironment, statuses: list[DataSetStatus]) -> str:
    document = {
        "environment": target.environment.name,
        "account": target.environment.account,
        "region": target.environment.region,
        "datasets": [dataclasses.asdict(status) for status in statuses],
    }
    return json.dumps(
        document,
        indent=1,
        default=lambda value: value.astimezone(UTC).isoformat(),
    )


def _status(target: DeployedEnvironment, datasets: list[DataSet], args: argparse.Namespace) -> int:
    statuses = collect(target, datasets, args.executions, datetime.now(UTC))
    print(as_json(target, statuses) if args.json else render(target, statuses))
    return EXIT_OK


def main(args: argparse.Namespace) -> int:
    if not 1 <= args.executions <= MAX_EXECUTIONS:
        raise DeclarationError(
            [f"--executions: {args.executions}; fix: pass 1 to {MAX_EXECUTIONS}"]
        )
    project = load_project(args.root)
    environment = environment_named(project, args.env)
    datasets = project.select(args.dataset)
    return on_aws(
        lambda: _status(connect(args, project, environment, datasets, COMMAND), datasets, args)
    )
