"""What the registry's writer queues and writes: rows (snapshots of events and records),
items, batches, and a batch's write with its fallback to one row at a time when the
database refuses the batch for its data."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import is_unreachable, one_line
from .records import EventRecord, SessionRecord
from .spill import Chunk, Row

log = logging.getLogger(__name__)

PROMPT_TYPES = frozenset({"permission_request", "permission_resolved"})
"""Events written at once rather than after ``flush_interval``: a person acts on a permission
request, maybe through another node, so it must outlive this process as soon as it exists."""
EVENT_FIELDS = tuple(f.name for f in fields(EventRecord))
RECORD_FIELDS = tuple(f.name for f in fields(SessionRecord))

Commit = Callable[[list[Row], list[Row]], Awaitable[int]]
"""``commit(events, records)``: write event rows (skipping ids already present) and
upsert session rows in one transaction; returns how many events were new. With both
lists empty it still makes a round trip (a probe)."""
Drop = Callable[[str, str], None]
"""``drop(what, why)``: count and log one event lost."""


@dataclass(slots=True)
class Item:
    """A queued row, its sequence number and its size (bytes, roughly)."""

    seq: int
    row: Row
    size: int


@dataclass(slots=True)
class Batch:
    """Rows written in one transaction."""

    events: list[Row]
    records: list[Row]
    taken: int = 0
    """Events taken from the front of memory (a memory batch)."""
    record_seqs: dict[str, int] = field(default_factory=dict)
    chunk: Chunk | None = None
    """Where the rows came from in the spill file (a spill batch)."""


def snapshot(value: EventRecord | SessionRecord, names: tuple[str, ...]) -> dict[str, Any]:
    """A row of ``value``'s current field values: a shallow copy, since a record's fields are
    replaced, never changed in place, and an event never changes (``dataclasses.asdict``
    deep-copied every nested dict and list, the most expensive step of a turn's bookkeeping)."""
    return {name: getattr(value, name) for name in names}


def event_row(event: EventRecord) -> Row:
    """The ``events`` row of an event."""
    return snapshot(event, EVENT_FIELDS)


def record_row(record: SessionRecord) -> Row:
    """The ``sessions`` row of a record's current values.

    Raises:
        ValueError: A datetime of the record is naive.
    """
    if record.created_at.tzinfo is None or record.last_activity.tzinfo is None:
        raise ValueError(f"session {record.session_id}: registry times must be timezone-aware")
    return snapshot(record, RECORD_FIELDS)


def memory_batch(events: Sequence[Item], records: dict[str, Item], size: int) -> Batch:
    """The oldest ``size`` events waiting in memory and every session's newest snapshot
    (taken, not removed: they go once written)."""
    taken = min(size, len(events))
    rows = [events[i].row for i in range(taken)]
    return Batch(rows, [item.row for item in records.values()], taken, {sid: item.seq for sid, item in records.items()})


ROW_OVERHEAD = 200
"""Bytes a queued row holds beyond its JSON's length, about."""


def row_size(row: Row) -> int:
    """About how many bytes a row holds: its JSON length plus a little."""
    return len(json.dumps(row, default=str)) + ROW_OVERHEAD


async def write_batch(commit: Commit, batch: Batch, timeout: float, drop: Drop) -> int:
    """Commit a batch (each transaction within ``timeout`` seconds); if the database refuses
    it for its data, row by row, dropping the rows it refuses again. Returns how many events were new.

    Raises:
        Exception: The database cannot be reached (:func:`~.errors.is_unreachable`).
    """

    async def within(events: list[Row], records: list[Row]) -> int:
        async with asyncio.timeout(timeout):
            return await commit(events, records)

    try:
        return await within(batch.events, batch.records)
    except Exception as exc:
        if is_unreachable(exc):
            raise
        refused = exc
    if len(batch.events) + len(batch.records) <= 1:
        _refused(batch.events, batch.records, refused, drop)
        return 0
    log.warning("registry: a batch of %d events and %d records was refused (%s); writing it row by row",
                len(batch.events), len(batch.records), one_line(refused))
    inserted = 0
    for events, records in [([row], []) for row in batch.events] + [([], [row]) for row in batch.records]:
        try:
            inserted += await within(events, records)
        except Exception as exc:
            if is_unreachable(exc):
                raise
            _refused(events, records, exc, drop)
    return inserted


def _refused(events: list[Row], records: list[Row], exc: Exception, drop: Drop) -> None:
    why = f"the database refused it: {one_line(exc)}"
    if events:
        drop(f"event {events[0].get('id')}", why)
    for row in records:
        log.error("registry: dropped the snapshot of session %s: %s", row.get("session_id"), why)
