"""The CloudTrail sample-data generator: S3 layout, realistic records, digests, determinism,
counts consistent with what it wrote."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from dataops import cli
from dataops.cloudtrail_sample_data import CloudTrailSampleData, generate

pytestmark = pytest.mark.dataset("cloudtrail")

RECORDS = 300
LOG = re.compile(
    r"^AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z]{2}-[a-z]+-\d)/"
    r"(?P<date>\d{4}/\d{2}/\d{2})/(?P=account)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_"
    r"[A-Za-z0-9]{16}\.json\.gz$"
)
DIGEST = re.compile(
    r"^AWSLogs/(?P<account>\d{12})/CloudTrail-Digest/(?P<region>[a-z]{2}-[a-z]+-\d)/"
    r"\d{4}/\d{2}/\d{2}/(?P=account)_CloudTrail-Digest_(?P=region)_[a-z-]+_[a-z]{2}-[a-z]+-\d_"
    r"\d{8}T\d{6}Z\.json\.gz$"
)
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> CloudTrailSampleData:
    return generate(tmp_path_factory.mktemp("raw"), RECORDS, seed=11)


def relative(data: CloudTrailSampleData, path: Path) -> str:
    return path.relative_to(data.out_dir).as_posix()


def text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def documents(data: CloudTrailSampleData) -> dict[Path, dict | None]:
    """Every log object's JSON document; None for one that is not valid JSON."""
    found = {}
    for path in data.log_files:
        try:
            found[path] = json.loads(text(path))
        except ValueError:
            found[path] = None
    return found


def records(data: CloudTrailSampleData) -> list[dict]:
    return [r for doc in documents(data).values() if doc is not None for r in doc["Records"]]


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json.gz"))}


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 200, seed=3)
    second = generate(tmp_path / "b", 200, seed=3, keep_records=False)
    other = generate(tmp_path / "c", 200, seed=4)
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")
    assert first.expected_rows() == second.expected_rows()
    assert second.staged_records == []
    assert file_bytes(tmp_path / "a") != file_bytes(tmp_path / "c")
    assert first.expected_rows() != other.expected_rows()


def test_logs_follow_the_s3_layout_over_accounts_regions_and_days(data) -> None:
    assert sorted(data.files) == sorted([*data.log_files, *data.digest_files])
    assert sorted(relative(data, p) for p in data.files) == sorted(file_bytes(data.out_dir))
    names = [relative(data, path) for path in data.log_files]
    assert [name for name in names if not LOG.match(name)] == []
    matches = [LOG.match(name) for name in names]
    assert len({m["account"] for m in matches if m}) == 3
    assert len({m["region"] for m in matches if m}) == 2
    assert len({m["date"] for m in matches if m}) >= 3
    # Delivered in the folder of the delivery time the name carries.
    assert all(m["stamp"][:8] == m["date"].replace("/", "") for m in matches if m)


def test_a_digest_beside_each_days_logs_lists_them_with_their_hash(data) -> None:
    listed = {}
    for path in data.digest_files:
        assert DIGEST.match(relative(data, path)), relative(data, path)
        for log in json.loads(text(path))["logFiles"]:
            listed[log["s3Object"]] = log["hashValue"]
    assert listed == {
        relative(data, path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in data.log_files
    }


def test_records_are_realistic_cloudtrail_events(data) -> None:
    found = records(data)
    identities = Counter(record["userIdentity"]["type"] for record in found)
    assert set(identities) == {"IAMUser", "AssumedRole", "AWSService", "Root"}
    services = [r for r in found if r["userIdentity"]["type"] == "AWSService"]
    assert all("arn" not in r["userIdentity"] for r in services)
    assert all(r["sourceIPAddress"].endswith(".amazonaws.com") for r in services)
    assert {r["readOnly"] for r in found} == {True, False}
    assert all(EVENT_TIME.match(r["eventTime"]) for r in found if "eventTime" in r)
    errors = Counter(r["errorCode"] for r in found if "errorCode" in r)
    assert len(errors) >= 3, errors
    assert len({(r["eventSource"], r["eventName"]) for r in found}) >= 12
    assert any(isinstance(r["requestParameters"], dict) for r in found)


def test_late_records_are_delivered_in_a_later_days_folder(data) -> None:
    late = [
        record
        for path, doc in documents(data).items()
        if doc is not None
        for record in doc["Records"]
        if "eventTime" in record
        and record["eventTime"][:10].replace("-", "/") < LOG.match(relative(data, path))["date"]
    ]
    assert len(late) >= 3


def test_malformed_counts_match_what_was_written(data) -> None:
    docs = documents(data)
    assert None not in docs.values(), "sample objects are whole: a broken one needs attention"
    without_time = sum("eventTime" not in record for record in records(data))
    assert data.malformed_by_reason == {"missing_event_time": without_time}
    assert without_time >= 2
    assert data.data_lines == RECORDS == len(records(data))


def test_staged_records_point_at_their_records(data) -> None:
    docs = documents(data)
    assert len(data.staged_records) == RECORDS - sum(data.malformed_by_reason.values())
    for staged in data.staged_records:
        record = docs[staged.source_file]["Records"][staged.line_number - 1]
        assert record["eventID"] == staged.event_id
        assert record["eventTime"][:10] == staged.dt.isoformat()
    expected = data.expected_rows()["cloudtrail_api_activity"]
    assert sum(row["calls"] for row in expected) == len(data.staged_records)


def test_too_few_records_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path, 10, seed=1)


def test_sample_data_writes_every_data_set(tmp_path: Path, capsys) -> None:
    code = cli.main(["sample-data", "--out", str(tmp_path), "--records", "100", "--seed", "5"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "cloudtrail: wrote" in output
    assert "vpcflow: wrote" in output
    assert list(tmp_path.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))
