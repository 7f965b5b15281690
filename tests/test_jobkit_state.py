"""The framework's storage, raw listing and bookkeeping, on a local disk and in S3 (moto)."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from moto import mock_aws

from jobkit.context import DateRange, JobContext, RawLayout
from jobkit.ledger import Ledger, TableWrite, root_key
from jobkit.raw_source import RawState, delivery_date, list_delivered, pending_objects
from jobkit.storage import LocalStorage, S3Storage, UnreadableObject, first_line, heads
from tests.deployed_moto import moto_session

LAYOUT = RawLayout("{account}/vpcflowlogs/{region}/{yyyy}/{MM}/{dd}/", (".log.gz", ".log"), 2)
KEYS = (
    "AWSLogs/1/vpcflowlogs/eu-west-1/2024/05/05/a.log.gz",
    "AWSLogs/1/vpcflowlogs/eu-west-1/2024/05/06/b.log",
    "AWSLogs/1/vpcflowlogs/eu-west-1/2024/05/07/13/c.log.gz",
    "AWSLogs/2/vpcflowlogs/us-east-1/2024/05/08/d.log.gz",
    "AWSLogs/2/vpcflowlogs/us-east-1/2024/05/08/notes.txt",
    "AWSLogs/2/CloudTrail/us-east-1/2024/05/08/e.json.gz",
    "AWSLogs/2/vpcflowlogs/us-east-1/readme.log",
)


class Recording:
    """A storage that records the listings asked of it (to prove what is not listed)."""

    def __init__(self, storage: object) -> None:
        self._storage = storage
        self.listings: list[tuple[str, str | None]] = []

    def list_objects(self, prefix: str, start_after: str | None = None):
        self.listings.append((prefix, start_after))
        return self._storage.list_objects(prefix, start_after)

    def __getattr__(self, name: str):
        return getattr(self._storage, name)


@pytest.fixture
def local(tmp_path):
    for key in KEYS:
        (tmp_path / "raw" / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "raw" / key).write_bytes(b"x" * 3)
    return LocalStorage(), f"file://{tmp_path}/raw/AWSLogs/", str(tmp_path / "state")


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = moto_session().client("s3")
        for bucket in ("raw", "curated"):
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        for key in KEYS:
            client.put_object(Bucket="raw", Key=key, Body=b"x" * 3)
        yield S3Storage(client), "s3://raw/AWSLogs/", "s3://curated/_state/vpcflow"


def context(raw_uri: str, state_uri: str, replay: DateRange | None = None) -> JobContext:
    return JobContext(
        dataset="vpcflow",
        job="staging",
        incremental="raw_objects",
        inputs={},
        outputs={"t": "/t", "q": "/q"},
        schemas={"t": "a INT", "q": "a INT"},
        state_uri=state_uri,
        batch_id="b1",
        quarantine="q",
        raw_uri=raw_uri,
        raw=LAYOUT,
        replay=replay,
    )


BACKENDS = ["local", "s3"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_objects_are_found_through_the_layout_only(backend, request) -> None:
    storage, raw, _ = request.getfixturevalue(backend)
    found = list_delivered(storage, raw, LAYOUT)
    names = [(item.uri.rsplit("/", 1)[1], item.delivered, item.size) for item in found]
    assert names == [
        ("a.log.gz", dt.date(2024, 5, 5), 3),
        ("b.log", dt.date(2024, 5, 6), 3),
        ("c.log.gz", dt.date(2024, 5, 7), 3),
        ("d.log.gz", dt.date(2024, 5, 8), 3),
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_dates_after_the_watermark_are_listed(backend, request) -> None:
    storage, raw, _ = request.getfixturevalue(backend)
    recording = Recording(storage)
    found = list_delivered(recording, raw, LAYOUT, after=dt.date(2024, 5, 6))
    assert [item.uri.rsplit("/", 1)[1] for item in found] == ["c.log.gz", "d.log.gz"]
    assert all(
        after is not None and after.endswith("2024/05/07") for _, after in recording.listings
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_replay_lists_exactly_its_dates(backend, request) -> None:
    storage, raw, _ = request.getfixturevalue(backend)
    recording = Recording(storage)
    days = DateRange(dt.date(2024, 5, 6), dt.date(2024, 5, 7))
    found = list_delivered(recording, raw, LAYOUT, dates=days)
    assert [item.uri.rsplit("/", 1)[1] for item in found] == ["b.log", "c.log.gz"]
    assert {prefix[-11:] for prefix, _ in recording.listings} == {"2024/05/06/", "2024/05/07/"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_processed_objects_are_recorded_by_delivery_date(backend, request) -> None:
    storage, raw, state_uri = request.getfixturevalue(backend)
    run = context(raw, state_uri)
    state = RawState(storage, run)
    first = pending_objects(storage, state, run)
    assert len(first.objects) == 4
    state.record(first.objects[:3], "b1", lateness_days=2)
    assert state.watermark() == dt.date(2024, 5, 5)
    assert [
        item.uri.rsplit("/", 1)[1] for item in pending_objects(storage, state, run).objects
    ] == ["d.log.gz"]
    state.record(first.objects[3:], "b2", lateness_days=2)
    assert state.watermark() == dt.date(2024, 5, 6)
    assert pending_objects(storage, state, run).objects == []
    records = state.processed({dt.date(2024, 5, 8)})[dt.date(2024, 5, 8)]
    assert records == {"2/vpcflowlogs/us-east-1/2024/05/08/d.log.gz": {"batch": "b2", "bytes": 3}}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_replay_names_the_batches_that_processed_its_objects(backend, request) -> None:
    storage, raw, state_uri = request.getfixturevalue(backend)
    state = RawState(storage, context(raw, state_uri))
    objects = list_delivered(storage, raw, LAYOUT)
    state.record(objects[:2], "b1", lateness_days=2)
    state.record(objects[2:], "b2", lateness_days=2)
    replay = context(raw, state_uri, DateRange(dt.date(2024, 5, 6), dt.date(2024, 5, 7)))
    pending = pending_objects(storage, RawState(storage, replay), replay)
    assert [item.uri.rsplit("/", 1)[1] for item in pending.objects] == ["b.log", "c.log.gz"]
    assert pending.earlier_batches == {"b1", "b2"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_queues_hold_what_a_consumer_has_not_processed(backend, request) -> None:
    storage, raw, state_uri = request.getfixturevalue(backend)
    ledger = Ledger(storage, context(raw, state_uri))
    ledger.enqueue(("intermediate",), "staging", "b1", {"t": TableWrite("append", ("2024-05-06",))})
    ledger.enqueue(
        ("intermediate",), "staging", "b2", {"q": TableWrite("replace", ("2024-05-07",))}
    )
    ledger.enqueue(("intermediate",), "staging", "b3", {"t": TableWrite("append", ())})
    pending = ledger.pending("intermediate", ["t"])
    assert [(entry.batch_id, entry.tables) for entry in pending] == [
        ("b1", {"t": TableWrite("append", ("2024-05-06",))}),
        ("b2", {}),
    ]
    ledger.dequeue([pending[0].uri])
    assert [entry.batch_id for entry in ledger.pending("intermediate", ["t"])] == ["b2"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_queues_are_kept_per_raw_root(backend, request) -> None:
    storage, raw, state_uri = request.getfixturevalue(backend)
    scheduled = Ledger(storage, context(raw, state_uri))
    test_run = Ledger(storage, context(raw + "integration-tests/x/", state_uri))
    scheduled.enqueue(("mart",), "intermediate", "b1", {"t": TableWrite("append", ("2024-05-06",))})
    assert test_run.pending("mart", ["t"]) == []
    assert root_key(raw) != root_key(raw + "integration-tests/x/")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_record_lists_partitions_for_sql_and_merges_reruns(backend, request) -> None:
    storage, raw, state_uri = request.getfixturevalue(backend)
    ledger = Ledger(storage, context(raw, state_uri))
    ledger.write_run_record(
        "exec:1", "mart", {"rows_out": 3}, {"m": TableWrite("replace", ("2024-05-07",))}
    )
    ledger.write_run_record(
        "exec:1", "mart", {"rows_out": 1}, {"m": TableWrite("replace", ("2024-05-06",))}
    )
    record = ledger.run_record("exec:1", "mart")
    assert record["rows_out"] == 1
    assert record["tables"]["m"] == {
        "dts": ["2024-05-06", "2024-05-07"],
        "dt_sql": "DATE '2024-05-06', DATE '2024-05-07'",
    }
    stored = [item.uri for item in storage.list_objects(state_uri.rstrip("/") + "/runs/")]
    assert stored[0].endswith("/runs/exec_1/mart.json")


@pytest.mark.parametrize("backend", BACKENDS)
def test_heads_read_the_first_line_and_name_what_is_not_gzip(backend, request, tmp_path) -> None:
    storage, raw, _ = request.getfixturevalue(backend)
    bodies = {
        "plain.log": b"version srcaddr\r\n1 2\n",
        "one.log.gz": gzip.compress(b"h1 h2\nrest\n"),
        "members.log.gz": gzip.compress(b"h1 ") + gzip.compress(b"h2\nrest\n"),
        "fake.log.gz": b"this is not gzip\n",
        "empty.log": b"",
    }
    uris = []
    for name, body in bodies.items():
        uri = f"{raw}heads/{name}"
        if isinstance(storage, S3Storage):
            moto_session().client("s3").put_object(
                Bucket="raw", Key=uri.removeprefix("s3://raw/"), Body=body
            )
        else:
            path = tmp_path / "raw" / "AWSLogs" / "heads" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        uris.append(uri)
    read = heads(storage, uris)
    lines = {uri.rsplit("/", 1)[1]: head for uri, head in read.items()}
    assert first_line(lines["plain.log"]) == "version srcaddr"
    assert first_line(lines["one.log.gz"]) == "h1 h2"
    assert first_line(lines["members.log.gz"]) == "h1 h2"
    assert lines["empty.log"] == b""
    assert isinstance(lines["fake.log.gz"], UnreadableObject)
    assert "not gzip" in str(lines["fake.log.gz"])


def test_delivery_dates_come_from_the_folders_with_or_without_an_hour() -> None:
    assert delivery_date("s3://r/AWSLogs/1/vpcflowlogs/x/2024/05/06/f.log.gz") == dt.date(
        2024, 5, 6
    )
    assert delivery_date("s3://r/AWSLogs/1/vpcflowlogs/x/2024/05/06/13/f.log") == dt.date(
        2024, 5, 6
    )
    assert delivery_date("s3://r/AWSLogs/1/vpcflowlogs/x/2024/02/30/f.log") is None
    assert delivery_date("s3://r/AWSLogs/1/readme.log") is None
