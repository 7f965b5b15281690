"""``flow-log-format``: the format a flow log delivers follows the staging contract."""

from __future__ import annotations

import dataclasses

import pytest

from dataops import cli
from dataops.declarations import DeclarationError
from dataops.flow_log_format import chosen_dataset, flow_log_fields, flow_log_format
from vpcflow.flowlog_format import KNOWN_FIELDS, REQUIRED_FIELDS, column_name


def test_the_format_is_every_flow_log_column_of_the_contract_in_contract_order(project):
    dataset = project.datasets["vpcflow"]
    fields = flow_log_fields(dataset.staging_contract)
    known = {column_name(field) for field in KNOWN_FIELDS}
    assert [column_name(f) for f in fields] == [
        c.name for c in dataset.staging_contract.columns if c.name in known
    ]
    assert fields[: len(REQUIRED_FIELDS)] == list(REQUIRED_FIELDS)
    assert flow_log_format(dataset) == " ".join(f"${{{field}}}" for field in fields)
    assert "extra_fields" not in flow_log_format(dataset)


def test_a_contract_change_changes_the_format(project):
    dataset = project.datasets["vpcflow"]
    contract = dataset.staging_contract
    without_tcp_flags = contract.model_copy(
        update={"columns": [c for c in contract.columns if c.name != "tcp_flags"]}
    )
    changed = dataclasses.replace(
        dataset, contracts={**dataset.contracts, contract.name: without_tcp_flags}
    )
    assert "${tcp-flags}" in flow_log_format(dataset)
    assert "${tcp-flags}" not in flow_log_format(changed)


def test_a_contract_without_a_required_field_is_a_one_line_error(project):
    dataset = project.datasets["vpcflow"]
    contract = dataset.staging_contract
    broken = contract.model_copy(
        update={"columns": [c for c in contract.columns if c.name != "log_status"]}
    )
    with pytest.raises(DeclarationError) as raised:
        flow_log_format(
            dataclasses.replace(dataset, contracts={**dataset.contracts, contract.name: broken})
        )
    (line,) = raised.value.lines
    assert line.startswith(f"contracts/vpcflow/{contract.name}.yaml: columns: no log_status")
    assert "; fix: " in line


def test_the_only_flow_log_data_set_is_the_default_and_others_are_refused(project):
    assert chosen_dataset(project.datasets, None).name == "vpcflow"
    assert chosen_dataset(project.datasets, "vpcflow").name == "vpcflow"
    with pytest.raises(DeclarationError, match="not a flow-log data set"):
        chosen_dataset(project.datasets, "nope")


def test_the_command_prints_the_format(project, capsys):
    assert cli.main(["flow-log-format"]) == cli.EXIT_OK
    assert capsys.readouterr().out == flow_log_format(project.datasets["vpcflow"]) + "\n"
