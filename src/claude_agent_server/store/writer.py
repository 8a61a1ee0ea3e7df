"""The registry's single writer: one task writes queued events and record snapshots in batches,
and keeps them through a database outage.

Callers never wait: :meth:`Writer.append` and :meth:`Writer.update` only enqueue.
The task writes a batch when ``batch_size`` events are waiting, when
:meth:`Writer.flush` asks, or ``flush_interval`` seconds after the first item
arrived, one transaction per batch (``BEGIN IMMEDIATE`` on SQLite): the events
(ids already present are skipped: an id is an idempotency key), then the newest
snapshot of each session.

**Durable** means in the database, or appended to the spill file and fsync'd.
Every accepted item gets a sequence number; :meth:`Writer.flush` returns once
every item numbered before the call is durable. While the database answers and the task is
not writing, a flush commits what waits in memory itself (with a small batch on a SQLite
file that is the inline commit of :mod:`.lanes`): no wake-up of the task and then of the
caller, the two event-loop cycles a turn's reply would otherwise wait for.

**Nothing accepted is dropped while the database is away.** A write that fails
because the database cannot be reached (:func:`~.errors.is_unreachable`) is
retried with exponential backoff (``retry_delay`` doubling up to
``max_retry_delay`` seconds) until it succeeds. Meanwhile, at each retry and at
once when :meth:`Writer.flush` waits, everything in memory moves to the spill
file (:mod:`.spill`), so flushing costs one fsync and a running turn goes on.
More than ``buffer_bytes`` waiting in memory also moves there, whatever the
database's state. Once the database answers, the spill file is written first,
oldest rows first, then memory: events exactly once, each session's newest
snapshot last. Until the spill file is empty the registry is *unavailable*
(*catching up*): readers get :class:`~.errors.RegistryUnavailable` (their answer
would be stale), and a flush is served by the spill file too.

Items are lost only when they can be neither written nor spilled: a batch the
database refuses for its data (not its reachability) is retried row by row and
the rows refused again are dropped; without a usable spill file, events beyond
``buffer_bytes`` are dropped oldest first; :meth:`Writer.close` gives up after
``flush_timeout``. Each is logged and counted in ``dropped`` (:class:`~.health.WriterHealth`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from .batches import PROMPT_TYPES, ROW_OVERHEAD, Batch, Commit, Item, event_row, memory_batch, record_row, row_size, write_batch
from .errors import RegistryUnavailable, is_unreachable
from .health import DatabaseStatus, Outage, WriterHealth
from .records import EventRecord, SessionRecord
from .spill import SpillFile
from .spilling import Spilling

log = logging.getLogger(__name__)

LOG_DROPS_EVERY = 1000
"""Drops log a warning on the first and then once per this many."""


class Writer(Spilling):
    """The writer task and what waits for it; create it inside a running event loop.

    Args:
        commit: Writes one batch (see :data:`Commit`).
        batch_size: Events per transaction, at most.
        flush_interval: Seconds an item may wait for a batch to fill.
        buffer_bytes: Bytes of rows (their JSON, roughly) kept in memory; beyond, they spill.
        spill: The spill file; None: none (beyond ``buffer_bytes`` events are dropped).
        retry_delay: Seconds before the first retry of a failed write, doubling each time...
        max_retry_delay: ...up to this many.
        write_timeout: Seconds one transaction may take before it counts as failed.
        flush_timeout: Seconds :meth:`flush` waits at most.
    """

    def __init__(
        self,
        commit: Commit,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        buffer_bytes: int = 64 * 1024 * 1024,
        spill: SpillFile | None = None,
        retry_delay: float = 0.05,
        max_retry_delay: float = 5.0,
        write_timeout: float = 10.0,
        flush_timeout: float = 30.0,
    ) -> None:
        self._commit = commit
        self._batch_size = batch_size
        self._urgent = False
        """A :data:`PROMPT_TYPES` event waits: write without waiting for ``flush_interval``."""
        self._interval = flush_interval
        self._limit = buffer_bytes
        self._spill = spill
        self._outage = Outage(retry_delay, max_retry_delay)
        self._write_timeout = write_timeout
        self._flush_timeout = flush_timeout
        self._events: deque[Item] = deque()
        self._records: dict[str, Item] = {}  # session_id -> newest snapshot
        self._bytes = 0
        self._seq = 0  # the last sequence number handed out
        self._durable = 0  # every item numbered up to this is durable
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        """Held from taking a batch to recording it written (by the task, or by a flush writing itself)."""
        self._caught_up = asyncio.Event()
        self._closed = False
        self.persisted = self.spilled = self.dropped = self.batches = 0
        """The counters :class:`~.health.WriterHealth` reports (``dropped``: see the module docstring)."""
        if spill is not None and spill.pending:
            log.warning("registry: %d events (%d bytes) spilled by a previous run wait in %s; writing them first",
                        spill.events, spill.pending_bytes, spill.path)
        self._update_caught_up()
        self._task = asyncio.create_task(self._run(), name="registry-writer")
        self._task.add_done_callback(self._on_stopped)

    # -- callers' side (never awaits) -----------------------------------------

    def append(self, event: EventRecord, size: int | None = None) -> None:
        """Enqueue an event (counted as dropped after :meth:`close`); ``size``: the length
        of its JSON in bytes when the caller has it (the session's event log encodes every event
        once), else it is encoded here to be measured."""
        if self._closed:
            self._drop(f"event {event.id}", "the registry is closed")
            return
        row = event_row(event)
        item = Item(self._next_seq(), row, row_size(row) if size is None else size + ROW_OVERHEAD)
        self._events.append(item)
        self._add_bytes(item.size)
        if event.type in PROMPT_TYPES:
            self._urgent = True
        if len(self._events) == self._batch_size or self._urgent:
            self._wake.set()

    def update(self, record: SessionRecord) -> None:
        """Enqueue a snapshot of the record's current values; a later one replaces it.

        Raises:
            ValueError: A datetime of the record is naive.
        """
        row = record_row(record)
        if self._closed:
            log.warning("registry: record %s enqueued after close; not written", record.session_id)
            return
        item = Item(self._next_seq(), row, row_size(row))
        old = self._records.pop(record.session_id, None)
        if old is not None:
            self._bytes -= old.size
        self._records[record.session_id] = item
        self._add_bytes(item.size)

    async def flush(self) -> None:
        """Wait until everything enqueued before this call is durable (see the module docstring).

        Raises:
            RegistryUnavailable: Not durable after ``flush_timeout`` seconds (the database
                cannot be reached and the spill file cannot be written).
            RuntimeError: The writer task stopped before it got there.
        """
        target = self._seq
        if self._durable >= target:
            return
        if self._task.done():
            raise RuntimeError("the registry writer has stopped")
        if not self._writing.locked() and self.available and len(self._events) <= self._batch_size and self._bytes <= self._limit:
            async with self._writing:  # not locked: taken at once
                with contextlib.suppress(Exception):  # left to the task, which retries it and handles an outage
                    self._urgent = False  # the batch about to be taken holds every event
                    batch = memory_batch(self._events, self._records, self._batch_size)
                    self._written(batch, await write_batch(self._commit, batch, self._write_timeout, self._drop))
            if self._durable >= target:
                return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        self._wake.set()
        try:
            async with asyncio.timeout(self._flush_timeout):
                await waiter
        except TimeoutError:
            raise self.unavailable(f"nothing could be written or spilled for {self._flush_timeout:g} s") from None

    async def caught_up(self, timeout: float) -> None:
        """Wait until the registry is available (nothing spilled waits, the database answers).

        Raises:
            RegistryUnavailable: Not within ``timeout`` seconds.
        """
        try:
            async with asyncio.timeout(timeout):
                await self._caught_up.wait()
        except TimeoutError:
            raise self.unavailable() from None

    async def close(self) -> None:
        """Refuse new items, make what is queued durable (bounded by ``flush_timeout``), stop the task.

        Whatever could be spilled but not written stays in the spill file for the next
        registry opened on the same database (a warning says so); what could not even be
        spilled is counted as dropped (an error says so).
        """
        self._closed = True
        try:
            await self.flush()
        except (RegistryUnavailable, RuntimeError) as exc:
            lost = len(self._events)
            self.dropped += lost
            log.error("registry: closing with %d events and %d records neither written nor spilled: %s",
                      lost, len(self._records), exc)
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._spill is not None and self._spill.pending:
            log.warning(
                "registry: the database could not be written (%s); %d events (%d bytes) wait in %s and are "
                "written when the server next starts with the database reachable",
                self._outage.error or "it was still catching up", self._spill.events, self._spill.pending_bytes, self._spill.path,
            )

    # -- state -----------------------------------------------------------------

    @property
    def available(self) -> bool:
        """True when reads see everything written: the database answers and nothing spilled waits."""
        return self._outage.since is None and not (self._spill is not None and self._spill.pending)

    def health(self) -> WriterHealth:
        """The database's state as this writer sees it, what waits, and its counters."""
        spill = self._spill
        status: DatabaseStatus = "unavailable" if self._outage.since else "catching_up" if not self.available else "ok"
        pending, spilled = len(self._events) + (spill.events if spill else 0), spill.pending_bytes if spill else 0
        return WriterHealth(
            status, self._outage.since, self._outage.error if status != "ok" else None, pending, spilled,
            self.persisted, self.spilled, self.dropped, self.batches,
        )

    def check(self) -> None:
        """Raise :class:`RegistryUnavailable` unless :attr:`available`."""
        if not self.available:
            raise self.unavailable()

    def unavailable(self, reason: str | None = None) -> RegistryUnavailable:
        """The error for a caller refused now, with the seconds until the next attempt."""
        return self._outage.refusal(reason)

    def unreachable(self, exc: BaseException) -> RegistryUnavailable:
        """A reader met ``exc`` (see :func:`~.errors.is_unreachable`): the writer probes the
        database until it answers. Returns the error for that reader."""
        self._went_down(exc)
        self._wake.set()
        return self.unavailable()

    # -- internals: bookkeeping --------------------------------------------------

    def _next_seq(self) -> int:
        if self._seq == self._durable:
            self._wake.set()  # the first pending item starts the flush_interval clock
        self._seq += 1
        return self._seq

    def _add_bytes(self, size: int) -> None:
        self._bytes += size
        if self._bytes > self._limit:
            self._wake.set()

    def _drop(self, what: str, why: str, count: int = 1) -> None:
        self.dropped += count
        if count > 1 or self.dropped % LOG_DROPS_EVERY == 1:
            log.error("registry: dropped %s: %s (%d dropped so far)", what, why, self.dropped)

    def _update_durable(self) -> None:
        """Every item still in memory is not durable; everything numbered below the oldest is."""
        oldest = self._events[0].seq if self._events else self._seq + 1
        if self._records:
            oldest = min(oldest, min(item.seq for item in self._records.values()))
        self._durable = oldest - 1
        while self._waiters and self._waiters[0][0] <= self._durable:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _update_caught_up(self) -> None:
        (self._caught_up.set if self.available else self._caught_up.clear)()

    def _waiting(self) -> bool:
        return any(not waiter.done() for _, waiter in self._waiters)

    def _went_down(self, exc: BaseException) -> None:
        self._outage.went_down(exc)
        self._update_caught_up()

    # -- internals: the task -----------------------------------------------------

    async def _run(self) -> None:
        while True:
            if self._outage.since is None:
                await self._wait_for_work()
            async with self._writing:  # after a flush that writes itself
                failed = await self._write_next()
            if failed is not None:
                if not is_unreachable(failed):  # a bug, or the spill file unreadable: keep everything, retry
                    log.error("registry: writing a batch failed unexpectedly; retrying", exc_info=failed)
                self._went_down(failed)
                await self._pause()

    async def _write_next(self) -> Exception | None:
        """Spill memory if it must go there, then write the next batch; what failed, or None."""
        if self._events or self._records:
            catching_up = self._spill is not None and self._spill.pending
            if self._outage.since is not None or (self._spill is not None and self._bytes > self._limit):
                await self._spill_memory()  # while down without a spill file: drops beyond the bound
            elif catching_up and self._waiting():
                await self._spill_memory()  # a flush need not wait for the whole backlog
        try:
            batch = await self._next_batch()
            inserted = await write_batch(self._commit, batch, self._write_timeout, self._drop)
        except Exception as exc:
            return exc
        self._written(batch, inserted)
        return None

    async def _wait_for_work(self) -> None:
        """Return when there is something to write (soon enough: a full batch, a flush, a
        full buffer, or ``flush_interval`` after the first item)."""
        while not (self._events or self._records or (self._spill is not None and self._spill.pending)):
            if self._outage.since is not None:
                return
            self._wake.clear()
            await self._wake.wait()
        if self._spill is not None and self._spill.pending:
            return
        if len(self._events) < self._batch_size and not self._waiters and self._bytes <= self._limit and not self._urgent:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
        self._urgent = False  # the batch about to be taken holds it

    async def _next_batch(self) -> Batch:
        """The oldest rows: from the spill file while it has any, else from memory (not
        removed until written); an empty batch (a probe) when nothing waits."""
        spill = self._spill
        if spill is not None and spill.pending:
            chunk = await asyncio.to_thread(spill.read, self._batch_size)
            return Batch(chunk.events, chunk.records, chunk=chunk)
        return memory_batch(self._events, self._records, self._batch_size)

    def _written(self, batch: Batch, inserted: int) -> None:
        self.persisted += inserted
        self.batches += 1
        if batch.chunk is not None:
            assert self._spill is not None
            self._spill.consumed(batch.chunk)
        else:
            for _ in range(batch.taken):
                self._bytes -= self._events.popleft().size
            for sid, seq in batch.record_seqs.items():
                item = self._records.get(sid)
                if item is not None and item.seq == seq:
                    self._bytes -= self._records.pop(sid).size
        self._outage.answered(self._spill.events if self._spill is not None else 0)
        self._update_durable()
        was_available = self._caught_up.is_set()
        self._update_caught_up()
        if self.available and not was_available and batch.chunk is not None:
            log.warning("registry: caught up: everything spilled is in the database")

    def _on_stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("registry writer crashed", exc_info=task.exception())
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the registry writer has stopped"))
