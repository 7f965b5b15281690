"""Contracts and the job graph: loading, cross-checks, one-line errors; the CLI's help."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataops.cli import COMMANDS
from dataops.contracts import load_contracts
from dataops.declarations import DeclarationError
from dataops.job_graph import load_job_graph
from dataops.project import PROJECT_ROOT
from vpcflow_jobs.flowlog_format import INTEGER_FIELDS, KNOWN_FIELDS, column_name

CONTRACTS = PROJECT_ROOT / "contracts"


def test_every_table_has_a_contract_and_the_graph_is_ordered(project) -> None:
    assert project.job_graph.names == ["staging", "intermediate", "mart"]
    assert set(project.job_graph.tables) == set(project.contracts)
    mart = project.contracts["data_app_conn_stats"]
    assert mart.grain == ["dt", "source_ip_address", "destination_port"]
    assert [c.name for c in mart.partition_columns] == ["dt"]


def test_staging_contract_declares_every_field_of_the_source_format(project) -> None:
    staging = project.contracts["staging_raw_vpcflowlogs"]
    for name in KNOWN_FIELDS:
        expected = INTEGER_FIELDS.get(name, "string")
        assert staging.column(column_name(name)).type == expected, name


def _copy_contracts(tmp_path: Path) -> Path:
    target = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("type: bigint", "type: long", "'long' is not a supported Glue type"),
        ("version: 1.0.0", "version: one", "'one' is not a semantic version"),
        (
            "grain: [dt, source_ip_address, destination_port]",
            "grain: [dt, src]",
            "grain names unknown column(s) src",
        ),
        ("layer: mart", "layer: gold", "layer: Input should be"),
        ("    nullable: false\n", "    nulable: false\n", "did you mean 'nullable'?"),
    ],
)
def test_bad_contract_is_one_line_with_a_fix(tmp_path, old, new, words) -> None:
    directory = _copy_contracts(tmp_path)
    path = directory / "data_app_conn_stats.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(DeclarationError) as caught:
        load_contracts(directory)
    line = next(line for line in caught.value.lines if words in line)
    assert line.startswith(f"{path}: ")
    assert "; fix: " in line


def test_contract_name_must_match_its_file(tmp_path) -> None:
    directory = _copy_contracts(tmp_path)
    (directory / "data_app_conn_stats.yaml").rename(directory / "conn_stats.yaml")
    with pytest.raises(DeclarationError, match="differs from the file name"):
        load_contracts(directory)


def test_job_graph_rejects_a_table_without_contract_and_a_cycle(tmp_path, project) -> None:
    graph = tmp_path / "job_graph.yaml"
    for script in ("staging_job.py", "intermediate_job.py", "mart_job.py"):
        (tmp_path / script).write_text("")
    text = (PROJECT_ROOT / "glue_scripts" / "job_graph.yaml").read_text()
    graph.write_text(text.replace("writes: [data_app_conn_stats]", "writes: [data_app_conn_statz]"))
    with pytest.raises(DeclarationError, match="'data_app_conn_statz' has no contract"):
        load_job_graph(project.contracts, graph)
    graph.write_text(text.replace("reads: [raw]", "reads: [inter_model_flowlogs]"))
    with pytest.raises(DeclarationError, match="cycle between staging, intermediate, mart"):
        load_job_graph(project.contracts, graph)


def test_cli_lists_every_command_and_each_has_help() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "dataops", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for spec in COMMANDS:
        assert spec.name in listing
    for name in ("validate-config", "sample-data", "run-local", "lint-data-tests", "diagrams"):
        result = subprocess.run(
            [sys.executable, "-m", "dataops", name, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: python -m dataops {name}")
