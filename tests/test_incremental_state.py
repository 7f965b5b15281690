"""The incremental state on a local disk and in S3 (moto)."""

from __future__ import annotations

import gzip
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from vpcflow_jobs.storage import BatchLedger, LocalStorage, S3Storage, first_lines

# Raw files and the first line read from each: plain, gzip, several gzip members, no newline.
FIRST_LINES = {
    "plain.log": (b"version srcaddr\r\n1 2\n", "version srcaddr\r"),
    "one.log.gz": (gzip.compress(b"h1 h2\nrest\n"), "h1 h2"),
    "members.log.gz": (gzip.compress(b"h1 ") + gzip.compress(b"h2\nrest\n"), "h1 h2"),
    "header-only.log.gz": (gzip.compress(b"h1"), "h1"),
    "empty.log": (b"", ""),
}


@pytest.fixture
def s3_storage(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket="raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        client.create_bucket(
            Bucket="curated", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        for key in ("AWSLogs/1/a.log.gz", "AWSLogs/1/b.log", "AWSLogs/1/notes.txt"):
            client.put_object(Bucket="raw", Key=key, Body=b"x")
        yield S3Storage(client), "s3://raw/AWSLogs/", "s3://curated/_state"


@pytest.fixture
def local_storage(tmp_path):
    for name in ("AWSLogs/1/a.log.gz", "AWSLogs/1/b.log", "AWSLogs/1/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return LocalStorage(), str(tmp_path / "AWSLogs"), str(tmp_path / "_state")


@pytest.mark.parametrize("backend", ["local_storage", "s3_storage"])
def test_ledger_tracks_files_and_batches(backend, request) -> None:
    storage, raw, state = request.getfixturevalue(backend)
    files = storage.list_files(raw)
    assert [f.rsplit("/", 1)[1] for f in files] == ["a.log.gz", "b.log"]
    ledger = BatchLedger(storage, state)
    assert ledger.processed_files() == set()
    ledger.add_processed_files(files[:1])
    assert ledger.processed_files() == {files[0]}
    ledger.record("staging", "b1", ["2024-05-07", "2024-05-06"], {"staged": 3})
    ledger.record("staging", "b2", ["2024-05-08"], {"staged": 1})
    assert [m["batch_id"] for m in ledger.pending("staging", "intermediate")] == ["b1", "b2"]
    ledger.consume("intermediate", ["b1"])
    pending = ledger.pending("staging", "intermediate")
    assert [(m["batch_id"], m["dts"]) for m in pending] == [("b2", ["2024-05-08"])]


@pytest.mark.parametrize("backend", ["local_storage", "s3_storage"])
def test_first_lines_are_read_from_plain_and_gzip_files(backend, request) -> None:
    storage, raw, _ = request.getfixturevalue(backend)
    uris = [f"{raw.rstrip('/')}/2/{name}" for name in FIRST_LINES]
    for uri, (body, _) in zip(uris, FIRST_LINES.values(), strict=True):
        if isinstance(storage, S3Storage):
            bucket, key = uri.removeprefix("s3://").split("/", 1)
            s3 = boto3.client("s3", region_name="eu-west-1")
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        else:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            Path(uri).write_bytes(body)
    assert first_lines(storage, uris) == {
        uri: line for uri, (_, line) in zip(uris, FIRST_LINES.values(), strict=True)
    }
