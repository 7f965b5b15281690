"""Data sets, contracts and job graphs: loading, cross-checks, one-line errors; the CLI's help."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataops import cli
from dataops.cli import COMMANDS
from dataops.contracts import load_contracts
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT, load_project
from vpcflow.flowlog_format import INTEGER_FIELDS, KNOWN_FIELDS, column_name

CONTRACTS = PROJECT_ROOT / "contracts" / "vpcflow"


def test_every_table_has_a_contract_and_each_graph_is_ordered(project) -> None:
    vpcflow = project.datasets["vpcflow"]
    assert vpcflow.job_graph.names == ["staging", "intermediate", "mart"]
    for dataset in project.datasets.values():
        assert set(dataset.job_graph.tables) == set(dataset.contracts)
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


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the declarations (config, contracts, data sets, data tests) to break."""
    for folder in ("config", "contracts", "glue_scripts", "data_tests"):
        shutil.copytree(
            PROJECT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _errors(root: Path) -> list[str]:
    with pytest.raises(DeclarationError) as caught:
        load_project(root)
    assert all("; fix: " in line and "\n" not in line for line in caught.value.lines)
    return caught.value.lines


GRAPH = "glue_scripts/vpcflow/job_graph.yaml"


@pytest.mark.parametrize(
    ("path", "old", "new", "words"),
    [
        (GRAPH, "writes: [data_app_conn_stats]", "writes: [data_app_conn_statz]", "'data_app_conn_statz' has no contract"),
        (GRAPH, "reads: [raw]", "reads: [inter_model_flowlogs]", "raw_objects is for the job that reads raw"),
        (GRAPH, "sql: models/data_app_conn_stats.sql", "sql: models/nothing.sql", "nothing.sql not found"),
        (GRAPH, "python: vpcflow.staging", "python: vpcflow.stagin", "stagin.py not found"),
        (GRAPH, "python: vpcflow.staging", "python: other.staging", "is outside the data set"),
        (GRAPH, "    quarantine: quarantine_vpcflowlogs\n", "", "names its quarantine table"),
        (GRAPH, "incremental: append", "incremental: sometimes", "incremental: Input should be"),
        (GRAPH, "reads: [staging_raw_vpcflowlogs]", "reads: [staging_raw_vpcflowlogs, quarantine_vpcflowlogs]", "an append job reads exactly one table"),
        (GRAPH, "    sql: models/inter_model_flowlogs.sql\n", "    python: vpcflow.staging\n    sql: models/inter_model_flowlogs.sql\n", "either python: <module> or sql: <file>"),
        ("glue_scripts/vpcflow/dataset.yaml", "{dd}/", "{day}/", "is not a delivery layout"),
        ("glue_scripts/vpcflow/dataset.yaml", "suffixes: [.log.gz, .log]", "suffixes: [log]", "log: not a file name suffix"),
        ("glue_scripts/vpcflow/dataset.yaml", "collector: vpc_flow_logs", "collector: sflow", "collector: Input should be"),
        ("contracts/vpcflow/data_app_conn_stats.yaml", "partition_keys: [dt]", "partition_keys: []", "must be partitioned by dt alone"),
        ("contracts/vpcflow/quarantine_vpcflowlogs.yaml", "  - name: object_bytes", "  - name: object_size", "must have exactly the columns"),
        ("contracts/vpcflow/staging_raw_vpcflowlogs.yaml", "  - name: ingest_batch_id", "  - name: batch", "lacks the lineage column(s) ingest_batch_id"),
    ],
)  # fmt: skip
def test_a_bad_data_set_declaration_is_one_line_with_a_fix(checkout, path, old, new, words) -> None:
    _edit(checkout / path, old, new)
    errors = _errors(checkout)
    assert any(words in line for line in errors), errors


def test_a_table_name_is_unique_across_data_sets(checkout) -> None:
    shutil.copytree(checkout / "glue_scripts/vpcflow", checkout / "glue_scripts/copy")
    shutil.copytree(checkout / "contracts/vpcflow", checkout / "contracts/copy")
    _edit(checkout / "glue_scripts/copy/job_graph.yaml", "python: vpcflow.", "python: copy.")
    errors = _errors(checkout)
    assert any("is also declared by data set 'copy'" in line for line in errors), errors


def test_contracts_and_data_tests_belong_to_a_data_set(checkout) -> None:
    (checkout / "contracts/orphans").mkdir()
    shutil.copy(checkout / "data_tests/vpcflow/no_future_dates.sql", checkout / "data_tests")
    errors = _errors(checkout)
    assert any("contracts/orphans: no data set 'orphans'" in line for line in errors), errors
    assert any("no_future_dates.sql: outside any data set" in line for line in errors), errors


def test_environment_settings_must_name_a_data_set_they_apply_to(checkout) -> None:
    config = checkout / "config/environments.yaml"
    _edit(
        config,
        "    glue:\n      worker_type: G.1X\n      workers: 2\n      flex: true\n      timeout_minutes: 30",
        "    datasets:\n      vpcflows: {}\n      vpcflow: {source_names: [trail]}\n"
        "    glue:\n      worker_type: G.1X\n      workers: 2\n      flex: true\n"
        "      timeout_minutes: 30",
    )
    errors = _errors(checkout)
    assert any("datasets.vpcflows: no data set 'vpcflows'" in line for line in errors), errors
    not_named = "datasets.vpcflow.source_names: 'vpcflow' is not delivered by named sources"
    assert any(not_named in line for line in errors), errors


def test_cli_lists_every_command_and_each_has_help(capsys) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "dataops", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for spec in COMMANDS:
        assert spec.name in listing
    for spec in COMMANDS:
        with pytest.raises(SystemExit) as exited:
            cli.main([spec.name, "--help"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: python -m dataops {spec.name}")
