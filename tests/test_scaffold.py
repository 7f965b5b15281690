"""``new-dataset NAME``: the scaffolded data set passes the project's checks as generated.

The data set is written into a copy of the declarations, then loaded with every cross-check,
linted (ruff with the project's settings, the data tests, the PII gate, the job-code names
check), given its Glue job arguments, and run locally on a hand-written object.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataops import cli
from dataops.data_tests import lint, load_data_tests
from dataops.job_contexts import Locations, job_context
from dataops.local_runner import local_locations, run_dataset
from dataops.pii_gate import pii_problems
from dataops.project import PROJECT_ROOT, Project, load_project
from jobkit.arguments import from_arguments, to_arguments
from tests.local_runs import table
from tests.test_job_code_names import problems

NAME = "alb_logs"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scaffold")
    for folder in ("config", "contracts", "glue_scripts", "data_tests"):
        shutil.copytree(
            PROJECT_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    assert cli.main(["new-dataset", NAME, "--root", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def scaffolded(checkout) -> Project:
    """The copy's declarations with the new data set, loaded once with every cross-check."""
    return load_project(checkout)


def test_the_new_data_set_loads_with_every_declaration_checked(scaffolded) -> None:
    dataset = scaffolded.datasets[NAME]
    assert dataset.job_graph.names == ["staging", "daily_counts"]
    assert set(dataset.contracts) == {
        f"staging_{NAME}_events",
        f"quarantine_{NAME}",
        f"{NAME}_daily_counts",
    }


def test_the_new_data_set_passes_the_lints(checkout, scaffolded) -> None:
    dataset = scaffolded.datasets[NAME]
    assert lint(load_data_tests(dataset.data_tests_dir), set(dataset.contracts)) == []
    contracts_dir = checkout / "contracts" / NAME
    assert pii_problems(dataset.contracts, contracts_dir, dataset.data_tests_dir) == []
    code = [str(checkout / "glue_scripts" / NAME)]
    config = ["--config", str(PROJECT_ROOT / "pyproject.toml")]
    for command in (["check", *config, *code], ["format", "--check", *config, *code]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout


def test_the_new_data_sets_job_code_names_only_its_own_tables(
    checkout, scaffolded, monkeypatch
) -> None:
    monkeypatch.setattr("tests.test_job_code_names.PROJECT_ROOT", checkout)
    assert problems(scaffolded) == []


def test_its_jobs_get_glue_arguments_that_read_back(scaffolded) -> None:
    dataset = scaffolded.datasets[NAME]
    locations = Locations(
        table=lambda table: f"s3://curated/{table}/",
        state=lambda name: f"s3://curated/_state/{name}/",
        raw=lambda ds: f"s3://raw/{ds.spec.raw.prefix}",
    )
    for job in dataset.job_graph.jobs:
        context = job_context(dataset, job, locations, "b")
        arguments = {k.removeprefix("--"): v for k, v in to_arguments(context).items()}
        assert from_arguments(arguments) == context


def test_a_bad_name_or_an_existing_data_set_is_one_line_and_exit_2(checkout, capsys) -> None:
    assert cli.main(["new-dataset", "Bad-Name", "--root", str(checkout)]) == 2
    assert cli.main(["new-dataset", NAME, "--root", str(checkout)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("error: NAME: 'Bad-Name' cannot name a data set; fix:")
    assert lines[1].startswith(f"error: NAME: {checkout / 'glue_scripts' / NAME} exists; fix:")


@pytest.mark.xdist_group("spark")
def test_the_new_data_set_runs_locally(spark, checkout, scaffolded, tmp_path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(checkout / "glue_scripts"))
    dataset = scaffolded.datasets[NAME]
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse"
    day = raw / "AWSLogs" / "123456789012" / NAME / "eu-west-1" / "2024" / "05" / "06"
    day.mkdir(parents=True)
    lines = [
        json.dumps({"time": "2024-05-06T10:00:00Z", "type": "GET"}),
        json.dumps({"time": "2024-05-06T11:00:00Z", "type": "GET"}),
        json.dumps({"time": "2024-05-06T12:00:00Z", "type": "PUT"}),
        json.dumps({"type": "GET"}),
        "not json",
    ]
    (day / "a.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    steps = run_dataset(spark, dataset, local_locations(raw, warehouse), "b1", quiet=True)
    assert [(s.rows_in, s.rows_out, s.rows_quarantined) for s in steps] == [(5, 3, 2), (3, 2, 0)]
    assert table(warehouse, f"{NAME}_daily_counts") == [
        ("GET", 2, dt.date(2024, 5, 6)),
        ("PUT", 1, dt.date(2024, 5, 6)),
    ]
    assert table(warehouse, f"quarantine_{NAME}", "line_number, reason") == [
        (4, "missing_time"),
        (5, "invalid_json"),
    ]
