"""Listing raw files and keeping incremental state, on a local disk or in S3.

The incremental state is plain JSON under ``state_uri``: which raw files the staging job has
processed, and one marker a batch for each job, naming the ``dt`` partitions it touched. It
is the same locally and in Glue, can be read by a person, and is written only after a job's
output is committed, so a failed run is simply redone.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

RAW_SUFFIXES = (".log", ".log.gz")
CHUNK_BYTES = 64 * 1024
# First lines are read on the driver, so that many small S3 reads overlap.
FIRST_LINE_THREADS = 16


class Storage(Protocol):
    def list_files(self, root: str) -> list[str]: ...
    def first_line(self, uri: str) -> str: ...
    def read_json(self, uri: str) -> Any: ...
    def write_json(self, uri: str, document: Any) -> None: ...
    def list_json(self, prefix: str) -> list[str]: ...


class LocalStorage:
    """Paths or ``file://`` URIs on this machine."""

    @staticmethod
    def _path(uri: str) -> Path:
        return Path(urlparse(uri).path if uri.startswith("file:") else uri)

    def list_files(self, root: str) -> list[str]:
        base = self._path(root)
        return sorted(
            str(path)
            for path in base.rglob("*")
            if path.is_file() and path.name.endswith(RAW_SUFFIXES)
        )

    def first_line(self, uri: str) -> str:
        with self._path(uri).open("rb") as handle:
            return _first_line(iter(lambda: handle.read(CHUNK_BYTES), b""), uri)

    def read_json(self, uri: str) -> Any:
        path = self._path(uri)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def write_json(self, uri: str, document: Any) -> None:
        path = self._path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(path)

    def list_json(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        return sorted(str(path) for path in base.glob("*.json")) if base.is_dir() else []


class S3Storage:
    """``s3://`` URIs through boto3 (present in Glue); the client is injectable for tests."""

    def __init__(self, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self._s3 = client

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        parsed = urlparse(uri)
        return parsed.netloc, parsed.path.lstrip("/")

    def _keys(self, uri: str) -> list[str]:
        bucket, prefix = self._split(uri)
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [
            f"s3://{bucket}/{item['Key']}" for page in pages for item in page.get("Contents", [])
        ]

    def list_files(self, root: str) -> list[str]:
        return sorted(uri for uri in self._keys(root) if uri.endswith(RAW_SUFFIXES))

    def first_line(self, uri: str) -> str:
        bucket, key = self._split(uri)
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return _first_line(body.iter_chunks(CHUNK_BYTES), uri)
        finally:
            body.close()

    def read_json(self, uri: str) -> Any:
        bucket, key = self._split(uri)
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def write_json(self, uri: str, document: Any) -> None:
        bucket, key = self._split(uri)
        body = json.dumps(document, indent=1, sort_keys=True).encode("utf-8")
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")

    def list_json(self, prefix: str) -> list[str]:
        return sorted(uri for uri in self._keys(prefix.rstrip("/") + "/") if uri.endswith(".json"))


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress gzip data as it arrives, member after member (as Hadoop's codec reads it)."""
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    for chunk in chunks:
        data = chunk
        while data:
            yield decompressor.decompress(data)
            if not decompressor.eof:
                break
            data = decompressor.unused_data
            decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)


def _first_line(chunks: Iterable[bytes], uri: str) -> str:
    """The text before the first newline of a raw file, reading no further than needed."""
    text = b""
    for chunk in _gunzip(chunks) if uri.endswith(".gz") else chunks:
        text += chunk
        if b"\n" in chunk:
            break
    return text.split(b"\n", 1)[0].decode("utf-8", errors="replace")


def first_lines(storage: Storage, uris: list[str]) -> dict[str, str]:
    """The first line of every file in ``uris``, read concurrently."""
    with ThreadPoolExecutor(max_workers=FIRST_LINE_THREADS) as pool:
        return dict(zip(uris, pool.map(storage.first_line, uris), strict=True))


def storage_for(uri: str) -> Storage:
    return S3Storage() if uri.startswith("s3://") else LocalStorage()


class BatchLedger:
    """Batch markers of one job and the batches a downstream job has already consumed."""

    def __init__(self, storage: Storage, state_uri: str) -> None:
        self._storage = storage
        self._root = state_uri.rstrip("/")

    def _marker(self, job: str, batch_id: str) -> str:
        return f"{self._root}/batches/{job}/{batch_id}.json"

    def record(self, job: str, batch_id: str, dts: list[str], counts: dict[str, int]) -> None:
        self._storage.write_json(
            self._marker(job, batch_id), {"batch_id": batch_id, "dts": sorted(dts), **counts}
        )

    def pending(self, upstream: str, consumer: str) -> list[dict[str, Any]]:
        """Markers of ``upstream`` that ``consumer`` has not yet consumed."""
        done = set(self._storage.read_json(f"{self._root}/consumed/{consumer}.json") or [])
        markers = [self._storage.read_json(uri) for uri in self._storage.list_json(
            f"{self._root}/batches/{upstream}"
        )]  # fmt: skip
        return [marker for marker in markers if marker and marker["batch_id"] not in done]

    def pending_batches(self, upstream: str, consumer: str) -> tuple[list[str], list[str]]:
        """Ids of the pending ``upstream`` batches and the ``dt`` partitions they touched."""
        pending = self.pending(upstream, consumer)
        dts = sorted({dt for marker in pending for dt in marker["dts"]})
        return [marker["batch_id"] for marker in pending], dts

    def consume(self, consumer: str, batch_ids: list[str]) -> None:
        uri = f"{self._root}/consumed/{consumer}.json"
        done = set(self._storage.read_json(uri) or [])
        self._storage.write_json(uri, sorted(done | set(batch_ids)))

    def processed_files(self) -> set[str]:
        return set(self._storage.read_json(f"{self._root}/processed_files.json") or [])

    def add_processed_files(self, files: list[str]) -> None:
        uri = f"{self._root}/processed_files.json"
        self._storage.write_json(uri, sorted(self.processed_files() | set(files)))
