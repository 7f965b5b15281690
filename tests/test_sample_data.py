"""The sample-data generator: S3 layout, every kind of line, determinism, consistent counts."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from dataops import cli
from dataops.sample_data import (
    DEFAULT_FIELDS,
    QUARANTINE_REASONS,
    GeneratedDataSet,
    generate,
)

pytestmark = pytest.mark.dataset("vpcflow")

RECORDS = 3_000
LAYOUT = re.compile(
    r"^AWSLogs/(?P<account>\d{12})/vpcflowlogs/(?P<region>[a-z]{2}-[a-z]+-\d)/"
    r"(?P<date>\d{4}/\d{2}/\d{2})/(?P=account)_vpcflowlogs_(?P=region)_fl-[0-9a-f]{17}_"
    r"\d{8}T\d{4}Z_[0-9a-f]{8}\.log(\.gz)?$"
)


def read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="ascii") as handle:
        return handle.read().split("\n")[:-1]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataSet:
    return generate(tmp_path_factory.mktemp("raw"), RECORDS, seed=11)


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.log*"))}


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 500, seed=3)
    second = generate(tmp_path / "b", 500, seed=3)
    other = generate(tmp_path / "c", 500, seed=4)
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")
    assert first.expected_conn_stats() == second.expected_conn_stats()
    assert file_bytes(tmp_path / "a") != file_bytes(tmp_path / "c")
    assert first.expected_conn_stats() != other.expected_conn_stats()


def test_files_follow_the_s3_layout_with_several_files_a_day(data: GeneratedDataSet) -> None:
    relative = [path.relative_to(data.out_dir).as_posix() for path in data.files]
    assert sorted(relative) == sorted(file_bytes(data.out_dir))
    days = Counter()
    for name in relative:
        match = LAYOUT.match(name)
        assert match, name
        days[match["date"]] += 1
    assert sum(1 for count in days.values() if count >= 2) >= 3
    suffixes = Counter(path.suffix for path in data.files)
    assert suffixes[".gz"] > suffixes[".log"] > 0


def test_every_file_starts_with_a_header_and_custom_formats_reorder_and_add_fields(
    data: GeneratedDataSet,
) -> None:
    headers = [tuple(read_lines(path)[0].split()) for path in data.files]
    assert tuple(DEFAULT_FIELDS) in headers
    custom = [h for h in headers if len(h) > len(DEFAULT_FIELDS)]
    assert any(set(DEFAULT_FIELDS) <= set(h) for h in custom)
    assert any([f for f in h if f in DEFAULT_FIELDS] != list(DEFAULT_FIELDS) for h in custom), (
        "no custom format orders the default fields differently"
    )
    assert any(not set(DEFAULT_FIELDS) <= set(h) for h in headers), "no header lacks a field"


def test_valid_records_match_their_lines_read_by_header(data: GeneratedDataSet) -> None:
    lines = {path: read_lines(path) for path in data.files}
    for record in data.valid_records:
        header = lines[record.source_file][0].split()
        values = lines[record.source_file][record.line_number - 1].split()
        fields = dict(zip(header, values, strict=True))
        assert len(fields) == len(header)
        for name, value in zip(DEFAULT_FIELDS, record[2:], strict=True):
            assert fields[name] == ("-" if value is None else str(value)), (record, name)


def test_every_kind_of_valid_line_is_present(data: GeneratedDataSet) -> None:
    records = data.valid_records
    assert {r.action for r in records} == {"ACCEPT", "REJECT", None}
    assert {r.log_status for r in records} == {"OK", "NODATA", "SKIPDATA"}
    assert {6, 17, 1} <= {r.protocol for r in records}
    assert any(":" in (r.srcaddr or "") for r in records)
    assert any("." in (r.srcaddr or "") for r in records)
    assert any(r.account_id == "unknown" for r in records)
    assert {r.version for r in records} >= {2, 3, 5}
    for record in records:
        assert record.end >= record.start
        if record.log_status != "OK":
            assert record.srcaddr is record.action is record.packets is None


def test_every_quarantine_reason_is_present(data: GeneratedDataSet) -> None:
    assert set(data.malformed_by_reason) == set(QUARANTINE_REASONS)
    assert all(count > 0 for count in data.malformed_by_reason.values())
    assert data.malformed_lines < data.data_lines * 0.02


def test_counts_are_consistent(data: GeneratedDataSet) -> None:
    written = 0
    for path in data.files:
        written += sum(1 for line in read_lines(path)[1:] if line.strip())
    assert written == data.data_lines == RECORDS
    assert data.data_lines == data.valid_lines + data.malformed_lines
    assert data.malformed_lines == sum(data.malformed_by_reason.values())
    assert len(data.valid_records) == data.valid_lines


def test_expected_conn_stats_sum_the_accepted_ok_records(data: GeneratedDataSet) -> None:
    accepted = [r for r in data.valid_records if r.log_status == "OK" and r.action == "ACCEPT"]
    rows = data.expected_conn_stats()
    assert sum(row["total_bytes_sent"] for row in rows) == sum(r.bytes for r in accepted)
    assert sum(row["total_packets_sent"] for row in rows) == sum(r.packets for r in accepted)
    assert sum(row["connection_length_sec"] for row in rows) == sum(
        r.end - r.start for r in accepted
    )
    keys = [(row["dt"], row["source_ip_address"], row["destination_port"]) for row in rows]
    assert (
        len(keys)
        == len(set(keys))
        == len({(r.start // 86_400, r.srcaddr, r.dstport) for r in accepted})
    )
    assert keys == sorted(keys)


def test_without_records_the_totals_and_the_mart_are_the_same(
    data: GeneratedDataSet, tmp_path: Path
) -> None:
    lean = generate(tmp_path, RECORDS, seed=11, keep_records=False)
    assert lean.valid_records == []
    assert (lean.data_lines, lean.valid_lines, lean.malformed_by_reason) == (
        data.data_lines,
        data.valid_lines,
        data.malformed_by_reason,
    )
    assert lean.expected_conn_stats() == data.expected_conn_stats()


def run_cli(argv: list[str]) -> int:
    return cli.main(["sample-data", *argv])


def test_cli_writes_every_data_sets_objects_and_prints_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], project
) -> None:
    argv = ["--out", str(tmp_path), "--records", "200", "--seed", "5", "--days", "1"]
    assert run_cli(argv) == 0
    out = capsys.readouterr().out
    assert "vpcflow: wrote" in out
    assert "records 200" in out
    assert "expected rows: data_app_conn_stats" in out
    assert any(tmp_path.rglob("*.log.gz"))
    assert all(f"{name}: wrote" in out for name in project.datasets)


def test_cli_rejects_too_few_records_and_an_unknown_data_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--out", str(tmp_path), "--records", "5", "--seed", "1"]) == 2
    assert "records must be at least" in capsys.readouterr().err
    argv = ["--out", str(tmp_path), "--records", "100", "--seed", "1", "--dataset", "nope"]
    assert run_cli(argv) == 2
    assert "--dataset: no data set 'nope'" in capsys.readouterr().err
