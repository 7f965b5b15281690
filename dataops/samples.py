"""``sample-data``: realistic raw objects for every data set, deterministic for a seed.

Each data set names its generator in ``dataset.yaml`` (``sample_data: <module>``); the module
has ``generate(out_dir, records, seed, days=..., start=..., keep_records=...)`` returning a
:class:`SampleData`: the objects it wrote in the S3 layout under ``out_dir`` and what the data
workflow must make of them. The local run, the end-to-end tests, the post-deploy integration run,
the cloud rehearsal and the benchmark all generate their raw data here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from pathlib import Path
from typing import Protocol

from dataops.cli import EXIT_OK, EXIT_USAGE
from dataops.datasets import DataSet
from dataops.project import PROJECT_ROOT, add_datasets_argument, load_project


class SampleData(Protocol):
    """What a generator wrote and what the data workflow must make of it."""

    files: list[Path]
    data_lines: int
    malformed_by_reason: dict[str, int]

    def expected_rows(self) -> dict[str, list[dict[str, object]]]:
        """Per mart table, every row the data workflow must produce, sorted by its grain."""
        ...


class Generator(Protocol):
    def __call__(
        self,
        out_dir: Path,
        records: int,
        seed: int,
        days: int = ...,
        start: dt.date | None = ...,
        *,
        keep_records: bool = ...,
    ) -> SampleData: ...


def generator_for(dataset: DataSet) -> Generator | None:
    """The data set's sample-data generator, or None when it declares none."""
    if dataset.spec.sample_data is None:
        return None
    return importlib.import_module(dataset.spec.sample_data).generate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="directory to write AWSLogs/ into")
    parser.add_argument("--records", type=int, required=True, help="records per data set")
    parser.add_argument("--seed", type=int, required=True, help="same seed, same bytes")
    parser.add_argument("--days", type=int, default=3, help="days of data (default: %(default)s)")
    parser.add_argument(
        "--start", type=dt.date.fromisoformat, default=None, help="first day, YYYY-MM-DD"
    )
    add_datasets_argument(parser)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    for dataset in load_project(args.root).select(args.dataset):
        name, generate = dataset.name, generator_for(dataset)
        if generate is None:
            continue
        try:
            data = generate(
                args.out, args.records, args.seed, args.days, args.start, keep_records=False
            )
        except ValueError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        malformed = sum(data.malformed_by_reason.values())
        reasons = ", ".join(
            f"{reason} {count}" for reason, count in data.malformed_by_reason.items()
        )
        expected = {table: len(rows) for table, rows in data.expected_rows().items()}
        print(f"{name}: wrote {len(data.files)} objects under {args.out}")
        print(f"  records {data.data_lines}: malformed {malformed} ({reasons})")
        print(f"  expected rows: {', '.join(f'{t} {n}' for t, n in expected.items())}")
    return EXIT_OK
