"""Which raw objects a run processes, found without listing the whole landing zone.

Objects are delivered under ``<raw root><layout>``, e.g. ``{account}/vpcflowlogs/{region}/
{yyyy}/{MM}/{dd}/``. The accounts and regions are discovered one folder level at a time; below
them only the delivery dates after the *watermark* are listed (S3 ``StartAfter``): the dates up
to the watermark are complete, every object of theirs processed. The processed objects are
recorded per delivery date, so a run reads only the records of the dates it lists. After a run,
the watermark moves to the newest delivery date seen minus the data set's ``lateness_days``.

A replay lists exactly the delivery dates asked for, processed or not.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from jobkit.context import DateRange, JobContext, RawLayout
from jobkit.ledger import root_key
from jobkit.storage import Storage, StoredObject, join

# The delivery date folders of an object's path, with the hour folder flow logs may add.
_PATH_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/(\d{2}/)?[^/]+$")
_FIRST_DATE_SEGMENT = "{yyyy}"


@dataclass(frozen=True)
class RawObject:
    """A raw object, its size and the delivery date its path names."""

    uri: str
    size: int
    delivered: dt.date

    def key(self, raw_uri: str) -> str:
        """The object's name relative to the raw root (how the record keeps it)."""
        return self.uri[len(raw_uri.rstrip("/")) + 1 :]


def delivery_date(uri: str) -> dt.date | None:
    """The date of the folders an object was delivered into (None off the layout)."""
    match = _PATH_DATE.search(uri)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()[:3]))
    except ValueError:
        return None


def _source_prefixes(storage: Storage, raw_uri: str, layout: str) -> list[str]:
    """Every ``.../{region}/`` folder the layout leads to (where the date folders start)."""
    segments = layout.strip("/").split("/")
    prefixes = [raw_uri.rstrip("/") + "/"]
    for segment in segments[: segments.index(_FIRST_DATE_SEGMENT)]:
        if segment.startswith("{"):
            prefixes = [folder for prefix in prefixes for folder in storage.list_folders(prefix)]
        else:
            prefixes = [f"{prefix}{segment}/" for prefix in prefixes]
    return prefixes


def list_delivered(
    storage: Storage,
    raw_uri: str,
    raw: RawLayout,
    *,
    after: dt.date | None = None,
    dates: DateRange | None = None,
) -> list[RawObject]:
    """Objects with one of ``raw.suffixes``, delivered after ``after`` or on ``dates``."""
    found: list[StoredObject] = []
    for prefix in _source_prefixes(storage, raw_uri, raw.layout):
        if dates is not None:
            for day in dates.days():
                found.extend(storage.list_objects(f"{prefix}{day:%Y/%m/%d}/"))
        elif after is not None:
            start = after + dt.timedelta(days=1)
            found.extend(storage.list_objects(prefix, start_after=f"{prefix}{start:%Y/%m/%d}"))
        else:
            found.extend(storage.list_objects(prefix))
    objects = []
    for stored in found:
        delivered = delivery_date(stored.uri)
        if stored.uri.endswith(raw.suffixes) and delivered is not None:
            objects.append(RawObject(stored.uri, stored.size, delivered))
    return objects


class RawState:
    """The processed-objects record and the watermark of one raw root of one data set."""

    def __init__(self, storage: Storage, context: JobContext) -> None:
        self._storage = storage
        self._root = join(context.state_uri, "raw", root_key(context.raw_uri))
        self._raw_uri = context.raw_uri

    def _processed_uri(self, day: dt.date) -> str:
        return join(self._root, "processed", f"{day.isoformat()}.json")

    @property
    def _watermark_uri(self) -> str:
        return join(self._root, "watermark.json")

    def watermark(self) -> dt.date | None:
        document = self._storage.read_json(self._watermark_uri)
        return dt.date.fromisoformat(document["complete_through"]) if document else None

    def processed(self, days: set[dt.date]) -> dict[dt.date, dict[str, Any]]:
        """Per delivery date, the objects processed: key -> {batch, bytes}."""
        return {day: self._storage.read_json(self._processed_uri(day)) or {} for day in days}

    def record(self, objects: list[RawObject], batch_id: str, lateness_days: int) -> None:
        """Mark ``objects`` processed by ``batch_id`` and move the watermark."""
        by_day: dict[dt.date, list[RawObject]] = {}
        for item in objects:
            by_day.setdefault(item.delivered, []).append(item)
        for day, items in self.processed(set(by_day)).items():
            for item in by_day[day]:
                items[item.key(self._raw_uri)] = {"batch": batch_id, "bytes": item.size}
            self._storage.write_json(self._processed_uri(day), items)
        if objects:
            newest = max(item.delivered for item in objects)
            complete = newest - dt.timedelta(days=lateness_days)
            current = self.watermark()
            if current is None or complete > current:
                document = {"complete_through": complete.isoformat(), "raw_uri": self._raw_uri}
                self._storage.write_json(self._watermark_uri, document)


@dataclass(frozen=True)
class PendingObjects:
    """What a raw run processes, and (for a replay) which earlier batches processed them."""

    objects: list[RawObject]
    earlier_batches: frozenset[str]


def pending_objects(raw_storage: Storage, state: RawState, context: JobContext) -> PendingObjects:
    """The objects the run processes: new ones, or every one delivered on the replayed dates."""
    raw = context.raw
    assert raw is not None
    if context.replay is not None:
        objects = list_delivered(raw_storage, context.raw_uri, raw, dates=context.replay)
        records = state.processed({item.delivered for item in objects})
        batches = {
            records[item.delivered][key]["batch"]
            for item in objects
            if (key := item.key(context.raw_uri)) in records[item.delivered]
        }
        return PendingObjects(objects, frozenset(batches))
    listed = list_delivered(raw_storage, context.raw_uri, raw, after=state.watermark())
    records = state.processed({item.delivered for item in listed})
    fresh = [item for item in listed if item.key(context.raw_uri) not in records[item.delivered]]
    return PendingObjects(fresh, frozenset())
