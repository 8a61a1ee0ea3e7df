"""The registry's single writer: one task writes queued events and record snapshots in batches.

Callers never wait: :meth:`Writer.append` and :meth:`Writer.update` only enqueue.
The task writes a batch when ``batch_size`` events are waiting, when
:meth:`Writer.flush` asks, or ``flush_interval`` seconds after the first item
arrived, one transaction per batch (``BEGIN IMMEDIATE`` on SQLite): the events
(ids already present are skipped), then the newest snapshot of each session.

Every accepted item gets a sequence number; after each batch the writer
publishes the highest number below which everything is written, and
:meth:`Writer.flush` waits for the number current when it was called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from . import tables
from .dialects import insert_ignoring, upsert
from .engine import writing
from .records import EventRecord, SessionRecord

log = logging.getLogger(__name__)

LOG_DROPS_EVERY = 1000
"""A full queue logs a warning on the first drop and then once per this many drops."""


class Writer:
    """The writer task and its queue; create it inside a running event loop.

    Args:
        engine: The registry's engine (the writer uses its ``BEGIN IMMEDIATE`` form).
        batch_size: Events per transaction, at most.
        flush_interval: Seconds an item may wait for a batch to fill.
        queue_limit: Events the queue holds; more are dropped and counted.
        retries: Further attempts at a failed batch before it is dropped.
        retry_delay: Seconds before the first retry, doubling each time.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        queue_limit: int = 100_000,
        retries: int = 3,
        retry_delay: float = 0.05,
    ) -> None:
        self._engine = writing(engine)
        self._batch_size = batch_size
        self._interval = flush_interval
        self._limit = queue_limit
        self._retries = retries
        self._retry_delay = retry_delay
        self._events: deque[tuple[int, dict[str, Any]]] = deque()  # (seq, events row)
        self._snapshots: dict[str, dict[str, Any]] = {}  # session_id -> newest sessions row
        self._seq = 0  # the last sequence number handed out
        self._done = 0  # every item numbered up to this is written (or given up)
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self.persisted = 0
        """Events inserted (ids already present not counted)."""
        self.dropped = 0
        """Events and snapshots refused because the queue was full or the writer closed."""
        self.failed = 0
        """Events lost with batches that failed every attempt."""
        self.batches = 0
        """Transactions committed."""
        self._task = asyncio.create_task(self._run(), name="registry-writer")
        self._task.add_done_callback(self._on_stopped)

    # -- callers' side (never awaits) -----------------------------------------

    def append(self, event: EventRecord) -> None:
        """Enqueue an event, or count it in :attr:`dropped` if the queue is full."""
        if self._closed or len(self._events) >= self._limit:
            self._drop(f"event {event.id}")
            return
        self._events.append((self._next_seq(), asdict(event)))
        if len(self._events) == self._batch_size:
            self._wake.set()

    def update(self, record: SessionRecord) -> None:
        """Enqueue a snapshot of the record's current values; a later one replaces it.

        Raises:
            ValueError: A datetime of the record is naive.
        """
        if record.created_at.tzinfo is None or record.last_activity.tzinfo is None:
            raise ValueError(f"session {record.session_id}: registry times must be timezone-aware")
        if self._closed:
            self._drop(f"record {record.session_id}")
            return
        self._snapshots[record.session_id] = asdict(record)
        self._next_seq()

    async def flush(self) -> None:
        """Wait until everything enqueued before this call is written (or given up).

        Raises:
            RuntimeError: The writer task stopped before it got there.
        """
        if self._done >= self._seq:
            return
        if self._task.done():
            raise RuntimeError("the registry writer has stopped")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((self._seq, waiter))
        self._wake.set()
        await waiter

    async def close(self) -> None:
        """Refuse new items, write what is queued, stop the task."""
        self._closed = True
        try:
            await self.flush()
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _next_seq(self) -> int:
        if self._seq == self._done:
            self._wake.set()  # the first pending item starts the flush_interval clock
        self._seq += 1
        return self._seq

    def _drop(self, what: str) -> None:
        self.dropped += 1
        if self.dropped % LOG_DROPS_EVERY == 1:
            queued = f"{len(self._events)}/{self._limit}"
            log.warning("registry: dropped %s (%d dropped so far; queue %s)", what, self.dropped, queued)

    # -- the task --------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if self._done == self._seq:
                self._wake.clear()
                await self._wake.wait()
            if len(self._events) < self._batch_size and not self._waiters:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._interval):
                        await self._wake.wait()
            await self._write_batch()

    async def _write_batch(self) -> None:
        events = [self._events.popleft()[1] for _ in range(min(self._batch_size, len(self._events)))]
        records, self._snapshots = list(self._snapshots.values()), {}
        done = self._events[0][0] - 1 if self._events else self._seq
        for attempt in range(self._retries + 1):
            try:
                self.persisted += await self._commit(events, records)
                self.batches += 1
                break
            except Exception:
                if attempt == self._retries:
                    log.exception("registry: dropping a batch of %d events and %d records", len(events), len(records))
                    self.failed += len(events)
                    break
                log.warning("registry: batch failed (attempt %d), retrying", attempt + 1, exc_info=True)
                await asyncio.sleep(self._retry_delay * 2**attempt)
        self._done = done
        while self._waiters and self._waiters[0][0] <= done:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def _commit(self, events: list[dict[str, Any]], records: list[dict[str, Any]]) -> int:
        """Write one batch in one transaction; returns how many events were new."""
        async with self._engine.begin() as conn:
            inserted = 0
            if events:  # insertmanyvalues splits the rows under the driver's bind-parameter limit
                result = await conn.execute(insert_ignoring(conn.dialect, tables.events), events)
                inserted = len(result.all())
            if records:
                await conn.execute(upsert(conn.dialect, tables.sessions, ["session_id"]), records)
        return inserted

    def _on_stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("registry writer crashed", exc_info=task.exception())
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the registry writer has stopped"))
