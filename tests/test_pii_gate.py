"""The PII gate on the shipped contracts and on each way a column can pass or fail."""

from __future__ import annotations

import shutil
from pathlib import Path

from dataops.contracts import load_contracts
from dataops.pii_gate import pii_problems
from dataops.project import PROJECT_ROOT

APPROVAL = """    exposure_approval:
      reason: "Network operations trace accepted connections to their source host; a hashed address cannot be acted on."
      approver: network-security@example.com
"""


def _setup(tmp_path: Path, new_block: str = "") -> tuple[Path, Path]:
    contracts, tests = tmp_path / "contracts", tmp_path / "data_tests"
    shutil.copytree(PROJECT_ROOT / "contracts" / "vpcflow", contracts)
    tests.mkdir()
    mart = contracts / "data_app_conn_stats.yaml"
    mart.write_text(mart.read_text().replace(APPROVAL, new_block))
    return contracts, tests


def _problems(contracts: Path, tests: Path) -> list[str]:
    return pii_problems(load_contracts(contracts), contracts, tests)


def test_shipped_contracts_pass_and_ip_columns_are_pii(project) -> None:
    for dataset in project.datasets.values():
        contracts_dir = PROJECT_ROOT / "contracts" / dataset.name
        assert pii_problems(dataset.contracts, contracts_dir, dataset.data_tests_dir) == []
    mart = project.contracts["data_app_conn_stats"].column("source_ip_address")
    assert mart.pii
    assert mart.exposure_approval is not None


def test_pii_in_a_mart_with_neither_masking_nor_approval_fails(tmp_path) -> None:
    contracts, tests = _setup(tmp_path)
    (problem,) = _problems(contracts, tests)
    assert "columns.source_ip_address: pii column reaches a mart in clear" in problem
    assert problem.startswith(str(contracts / "data_app_conn_stats.yaml"))


def test_masking_needs_a_data_test_proving_it(tmp_path) -> None:
    contracts, tests = _setup(tmp_path, "    masking: hash\n")
    (problem,) = _problems(contracts, tests)
    assert "masked by hash but no data test proves it" in problem
    assert str(tests / "pii_data_app_conn_stats_source_ip_address.sql") in problem
    (tests / "pii_data_app_conn_stats_source_ip_address.sql").write_text("SELECT 1")
    assert _problems(contracts, tests) == []


def test_an_address_column_not_marked_pii_fails_in_any_layer(tmp_path) -> None:
    contracts, tests = _setup(tmp_path, APPROVAL)
    inter = contracts / "inter_model_flowlogs.yaml"
    text = inter.read_text()
    inter.write_text(
        text.replace(
            "  - name: destination_ip_address\n    type: string\n    nullable: true\n    pii: true",
            "  - name: destination_ip_address\n    type: string\n    nullable: true\n    pii: false",
        )
    )
    (problem,) = _problems(contracts, tests)
    assert (
        "columns.destination_ip_address: holds network addresses but is not marked pii" in problem
    )
