"""check-contracts: one case per change class, against a real git base."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dataops import cli
from dataops.contract_changes import ChangeClass, compare, load_base_contracts
from dataops.contracts import load_contract_tree
from dataops.project import PROJECT_ROOT

MART = "contracts/vpcflow/data_app_conn_stats.yaml"
NEW_NULLABLE = '  - name: note\n    type: string\n    nullable: true\n    description: "x"\n'
NEW_REQUIRED = '  - name: note\n    type: string\n    nullable: false\n    description: "x"\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "contracts", tmp_path / "contracts")
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@e.x", "commit", "-qm", "base"],
    ):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True)
    return tmp_path


def _edit(repo: Path, path: str, old: str, new: str) -> None:
    target = repo / path
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))


def _check(repo: Path):
    return compare(load_base_contracts(repo, "HEAD"), load_contract_tree(repo / "contracts"))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  - name: total_bytes_sent\n    type: bigint\n",
            "  - name: total_bytes\n    type: bigint\n",
            "column total_bytes_sent removed (renamed to total_bytes?)",
        ),
        (
            "  - name: total_bytes_sent\n    type: bigint\n",
            "  - name: total_bytes_sent\n    type: double\n",
            "column total_bytes_sent type bigint -> double",
        ),
        (
            "  - name: total_bytes_sent\n    type: bigint\n    nullable: false",
            "  - name: total_bytes_sent\n    type: bigint\n    nullable: true",
            "column total_bytes_sent becomes nullable",
        ),
        (
            "partition_keys: [dt]",
            "partition_keys: [dt, destination_port]",
            "partition_keys ['dt'] -> ['dt', 'destination_port']",
        ),
        (
            "grain: [dt, source_ip_address, destination_port]",
            "grain: [dt, source_ip_address]",
            "grain",
        ),
        ("columns:\n", "columns:\n" + NEW_REQUIRED, "column note added as non-nullable"),
    ],
)
def test_breaking_change_fails_without_major_bump_and_passes_with_it(
    repo, old, new, expected
) -> None:
    _edit(repo, MART, old, new)
    changes, failures = _check(repo)
    assert any(c.kind is ChangeClass.BREAKING and c.what.startswith(expected) for c in changes)
    assert len(failures) == 1
    assert failures[0].startswith("data_app_conn_stats: breaking change(s)")
    assert "fix: set version: 2.0.0" in failures[0]
    _edit(repo, MART, "version: 1.0.0", "version: 2.0.0")
    assert _check(repo)[1] == []


def test_removed_table_always_fails(repo) -> None:
    (repo / MART).unlink()
    changes, failures = _check(repo)
    assert changes[0].what == "table removed"
    assert failures == ["data_app_conn_stats: table removed; fix: keep it, or deprecate it first"]


def test_new_nullable_column_and_new_table_are_additive(repo) -> None:
    _edit(repo, MART, "columns:\n", "columns:\n" + NEW_NULLABLE)
    extra = (repo / MART).read_text().replace("name: data_app_conn_stats", "name: conn_stats_v2")
    (repo / "contracts" / "vpcflow" / "conn_stats_v2.yaml").write_text(extra)
    changes, failures = _check(repo)
    assert failures == []
    assert {(c.table, c.what, c.kind) for c in changes} >= {
        ("data_app_conn_stats", "column note added (nullable)", ChangeClass.ADDITIVE),
        ("conn_stats_v2", "table added", ChangeClass.ADDITIVE),
    }


def test_description_change_is_informational_and_version_may_not_go_down(repo) -> None:
    _edit(repo, MART, "owner: network-analytics@example.com", "owner: netops@example.com")
    changes, failures = _check(repo)
    assert [(c.what, c.kind) for c in changes] == [
        ("owner or description changed", ChangeClass.INFO)
    ]
    assert failures == []
    _edit(repo, MART, "version: 1.0.0", "version: 0.9.0")
    assert _check(repo)[1] == ["data_app_conn_stats: version went down 1.0.0 -> 0.9.0"]


def test_a_contract_moved_into_a_data_set_folder_is_the_same_table(repo) -> None:
    (repo / "contracts" / "vpcflow").rename(repo / "contracts" / "flows")
    assert _check(repo) == ([], [])


def test_cli_exit_codes(repo) -> None:
    """In process for an unchanged and an unknown base; through ``python -m dataops`` for a
    breaking change."""
    import sys

    def run(*args: str) -> int:
        return cli.main(["check-contracts", "--root", str(repo), *args])

    assert run("--base", "HEAD") == 0
    assert run("--base", "no-such-ref") == 2
    _edit(repo, MART, "type: bigint", "type: int")
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "check-contracts", "--root", str(repo), "--base", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "breaking" in result.stdout
