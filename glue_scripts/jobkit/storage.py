"""Objects on a local disk or in S3 behind one small protocol.

Jobs list raw objects, read their first bytes, keep JSON state and move their committed files
through this protocol, so the same job code runs locally and in Glue (boto3 is in Glue), and
the tests run it on both (moto for S3).
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

CHUNK_BYTES = 64 * 1024
# First bytes are read on the driver, so that many small S3 reads overlap.
HEAD_THREADS = 16


@dataclass(frozen=True)
class StoredObject:
    uri: str
    size: int


class Storage(Protocol):
    def list_objects(self, prefix: str, start_after: str | None = None) -> list[StoredObject]:
        """Objects whose URI starts with ``prefix`` (after ``start_after``), by URI."""
        ...

    def list_folders(self, prefix: str) -> list[str]:
        """The next folder level below ``prefix`` (a ``/``-terminated URI), each ``/``-ended."""
        ...

    def head(self, uri: str) -> bytes:
        """The first chunk of the object, gunzipped when its name ends in ``.gz``; raises
        :class:`UnreadableObject` when that fails."""
        ...

    def read_json(self, uri: str) -> Any: ...
    def write_json(self, uri: str, document: Any) -> None: ...
    def move(self, source: str, target: str) -> None: ...
    def delete(self, uri: str) -> None: ...
    def exists(self, uri: str) -> bool: ...


class UnreadableObject(Exception):
    """The object's bytes are not what its name says (e.g. not gzip)."""


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress gzip data as it arrives, member after member (as Hadoop's codec reads it)."""
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    for chunk in chunks:
        data = chunk
        while data:
            try:
                yield decompressor.decompress(data)
            except zlib.error as exc:
                raise UnreadableObject(f"not gzip ({exc})") from None
            if not decompressor.eof:
                break
            data = decompressor.unused_data
            decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)


def _head(chunks: Iterable[bytes], uri: str) -> bytes:
    """At least one chunk of the object's text, and up to its first newline."""
    text = b""
    for chunk in _gunzip(chunks) if uri.endswith(".gz") else chunks:
        text += chunk
        if b"\n" in chunk or len(text) >= CHUNK_BYTES:
            break
    return text


def first_line(head: bytes) -> str:
    """The text before the first newline (``\\r`` dropped)."""
    return head.split(b"\n", 1)[0].decode("utf-8", errors="replace").replace("\r", "")


class LocalStorage:
    """Paths or ``file://`` URIs on this machine."""

    @staticmethod
    def _path(uri: str) -> Path:
        return Path(urlparse(uri).path if uri.startswith("file:") else uri)

    @staticmethod
    def _uri(path: Path, like: str) -> str:
        return f"file://{path}" if like.startswith("file:") else str(path)

    def list_objects(self, prefix: str, start_after: str | None = None) -> list[StoredObject]:
        base = self._path(prefix)
        folder = base if base.is_dir() else base.parent
        if not folder.is_dir():
            return []
        found = []
        for path in folder.rglob("*"):
            uri = self._uri(path, prefix)
            after = start_after is None or uri > start_after
            if path.is_file() and uri.startswith(prefix) and after:
                found.append(StoredObject(uri, path.stat().st_size))
        return sorted(found, key=lambda item: item.uri)

    def list_folders(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(self._uri(path, prefix) + "/" for path in base.iterdir() if path.is_dir())

    def head(self, uri: str) -> bytes:
        with self._path(uri).open("rb") as handle:
            return _head(iter(lambda: handle.read(CHUNK_BYTES), b""), uri)

    def read_json(self, uri: str) -> Any:
        path = self._path(uri)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def write_json(self, uri: str, document: Any) -> None:
        path = self._path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(path)

    def move(self, source: str, target: str) -> None:
        path = self._path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path(source).replace(path)

    def delete(self, uri: str) -> None:
        path = self._path(uri)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def exists(self, uri: str) -> bool:
        return self._path(uri).exists()


class S3Storage:
    """``s3://`` URIs through boto3; the client is injectable for tests."""

    def __init__(self, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self._s3 = client

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        parsed = urlparse(uri)
        return parsed.netloc, parsed.path.lstrip("/")

    def list_objects(self, prefix: str, start_after: str | None = None) -> list[StoredObject]:
        bucket, key_prefix = self._split(prefix)
        options = {"Bucket": bucket, "Prefix": key_prefix}
        if start_after is not None:
            options["StartAfter"] = self._split(start_after)[1]
        pages = self._s3.get_paginator("list_objects_v2").paginate(**options)
        return [
            StoredObject(f"s3://{bucket}/{item['Key']}", int(item["Size"]))
            for page in pages
            for item in page.get("Contents", [])
        ]

    def list_folders(self, prefix: str) -> list[str]:
        bucket, key_prefix = self._split(prefix)
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=key_prefix.rstrip("/") + "/", Delimiter="/"
        )
        return [
            f"s3://{bucket}/{item['Prefix']}"
            for page in pages
            for item in page.get("CommonPrefixes", [])
        ]

    def head(self, uri: str) -> bytes:
        bucket, key = self._split(uri)
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return _head(body.iter_chunks(CHUNK_BYTES), uri)
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

    def move(self, source: str, target: str) -> None:
        """Copy then delete (S3 has no rename); a managed copy handles objects over 5 GB."""
        source_bucket, source_key = self._split(source)
        bucket, key = self._split(target)
        self._s3.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key)
        self._s3.delete_object(Bucket=source_bucket, Key=source_key)

    def delete(self, uri: str) -> None:
        """The object, or every object under a ``/``-terminated prefix."""
        bucket, key = self._split(uri)
        if not uri.endswith("/"):
            self._s3.delete_object(Bucket=bucket, Key=key)
            return
        keys = [self._split(item.uri)[1] for item in self.list_objects(uri)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": name} for name in keys[start : start + 1000]]
            self._s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})

    def exists(self, uri: str) -> bool:
        return bool(self.list_objects(uri)[:1])


def heads(storage: Storage, uris: list[str]) -> dict[str, bytes | UnreadableObject]:
    """The head of every object in ``uris``, read concurrently; a failure is kept, not raised."""

    def read(uri: str) -> bytes | UnreadableObject:
        try:
            return storage.head(uri)
        except UnreadableObject as exc:
            return exc

    with ThreadPoolExecutor(max_workers=HEAD_THREADS) as pool:
        return dict(zip(uris, pool.map(read, uris), strict=True))


def storage_for(uri: str) -> Storage:
    return S3Storage() if uri.startswith("s3://") else LocalStorage()


def join(uri: str, *parts: str) -> str:
    """``uri`` and ``parts`` joined by single slashes."""
    return "/".join([uri.rstrip("/"), *(part.strip("/") for part in parts)])
