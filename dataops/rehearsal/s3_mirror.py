"""A local directory mirroring moto's S3, so Spark and DuckDB can read and write "S3".

``s3://bucket/key`` is ``<root>/bucket/key``. Before a job run or a query the directory is made
equal to S3 (:meth:`S3Mirror.pull`); after a job run what the job wrote, replaced or deleted
goes back (:meth:`S3Mirror.push`). Both compare against what the last sync saw (ETag, size and
modification time), so only changed objects are copied. They read and write moto's S3 backend
directly: through the API, listing every bucket before each job run and query took longer
than the queries. One lock serializes every synced
section: a job run or query sees S3 as it was when it started and nobody else's half-written
output.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.s3.models import S3Backend

S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]*)(/[^,\s]*)?")


@dataclass(frozen=True)
class _Seen:
    etag: str
    size: int
    mtime_ns: int


class S3Mirror:
    """``root`` mirrors every bucket of ``s3``, moto's S3 backend of one account."""

    def __init__(self, s3: S3Backend, root: Path) -> None:
        self._s3 = s3
        self.root = root
        self._seen: dict[tuple[str, str], _Seen] = {}
        self._lock = threading.RLock()

    def local_path(self, uri: str) -> str:
        """``s3://bucket/key`` as a path under the mirror (a trailing slash is kept)."""
        match = S3_URI.fullmatch(uri)
        if match is None:
            raise ValueError(f"not an S3 URI: {uri}")
        bucket, key = match.group(1), (match.group(2) or "/").lstrip("/")
        path = str(self.root / bucket / key)
        return f"{path}/" if key.endswith("/") or not key else path

    def s3_uri(self, path: str) -> str:
        """A path under the mirror (as a job run records it) as the ``s3://`` URI it mirrors;
        an S3 URI stays as it is."""
        if S3_URI.fullmatch(path):
            return path
        return "s3://" + Path(path).relative_to(self.root).as_posix()

    def localize(self, value: str) -> str:
        """``value`` with every S3 URI in it (one, or a comma-separated list) made local."""
        return S3_URI.sub(lambda match: self.local_path(match.group(0)), value)

    @contextmanager
    def synced(self, *, push: bool) -> Iterator[None]:
        """A section that sees S3 in the directory; with ``push`` its changes go back to S3,
        also when it fails (a failed job's partial output stays in S3, as it would)."""
        with self._lock:
            self.pull()
            try:
                yield
            finally:
                if push:
                    self.push()

    def _objects(self) -> dict[tuple[str, str], Any]:
        """Every object (moto's ``FakeKey``) by bucket and key, "folder" markers left out."""
        return {
            (name, key): fake
            for name, bucket in list(self._s3.buckets.items())
            for key, fake in list(bucket.keys.items())
            if not key.endswith("/")
        }

    def _remember(self, bucket: str, key: str, etag: str) -> None:
        stat = (self.root / bucket / key).stat()
        self._seen[(bucket, key)] = _Seen(etag, stat.st_size, stat.st_mtime_ns)

    def _unchanged(self, bucket: str, key: str) -> bool:
        path = self.root / bucket / key
        seen = self._seen.get((bucket, key))
        if seen is None or not path.is_file():
            return False
        stat = path.stat()
        return (stat.st_size, stat.st_mtime_ns) == (seen.size, seen.mtime_ns)

    def _local_files(self) -> set[tuple[str, str]]:
        if not self.root.is_dir():
            return set()
        return {
            (path.relative_to(self.root).parts[0], "/".join(path.relative_to(self.root).parts[1:]))
            for path in self.root.rglob("*")
            if path.is_file() and len(path.relative_to(self.root).parts) > 1
        }

    def pull(self) -> None:
        """Make the directory equal to S3."""
        with self._lock:
            objects = self._objects()
            for (bucket, key), fake in objects.items():
                seen = self._seen.get((bucket, key))
                if seen is not None and seen.etag == fake.etag and self._unchanged(bucket, key):
                    continue
                path = self.root / bucket / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(fake.value)
                self._remember(bucket, key, fake.etag)
            # Every file in the directory is one a sync wrote or read back (jobs and queries
            # only touch it inside synced sections), so what S3 no longer holds is among those
            # seen: no walk of the whole directory before every query.
            for bucket, key in set(self._seen) - set(objects):
                (self.root / bucket / key).unlink(missing_ok=True)
                del self._seen[(bucket, key)]

    def push(self) -> None:
        """Send what changed in the directory since the last sync to S3, deletions included."""
        with self._lock:
            local = self._local_files()
            for bucket, key in sorted(local):
                if self._unchanged(bucket, key):
                    continue
                fake = self._s3.put_object(bucket, key, (self.root / bucket / key).read_bytes())
                self._remember(bucket, key, fake.etag)
            for bucket, key in sorted(set(self._seen) - local):
                self._s3.delete_object(bucket, key)
                del self._seen[(bucket, key)]
