"""``WriteQueue``: items written to the database by one task, in order, kept through an outage.

The transcript mirror (:mod:`.write_behind`) and the audit log (:mod:`.audit`) both write
through one: their callers only queue, never wait for the database.

:meth:`WriteQueue.put` queues an item with its size in bytes and returns. One task takes
what is queued (at most ``batch_bytes`` at a time, oldest first), groups it by the owner's
``group`` key (the groups in the order of their first item, each group's items in put
order) and writes each group with one call of ``write``. :meth:`WriteQueue.flush` waits
until everything put before it is written (or given up).

**An outage loses nothing within the buffer.** A write that fails because the database
cannot be reached (:func:`~.errors.is_unreachable`, or :class:`~.errors.RegistryUnavailable`)
is retried with exponential backoff (``retry_delay`` doubling up to ``max_retry_delay``
seconds) until it succeeds; nothing behind it is written first, so everything reaches the
database in the order it was put. A retried group may have reached the database before its
connection broke: ``write`` must be safe to repeat (transcript lines are keyed by their
``uuid``; an audit insert skips rows already there). Meanwhile :meth:`~WriteQueue.flush` raises
``RegistryUnavailable`` at once instead of waiting for the outage to end.

**Memory is bounded by** ``max_bytes`` (items' sizes as the owner counts them). While the
database answers, a :meth:`~WriteQueue.put` beyond it waits for the queue to be written
(backpressure, nothing lost). During an outage an item that does not fit is **dropped**: the
buffer keeps the oldest items, a continuous stretch from the outage's start; the first drop
of an outage is logged (once), and the count when the database answers again; all are
counted in :attr:`~WriteQueue.dropped`.

Other failures (the database refuses the data) are retried after :data:`RETRY_DELAYS`, then
given up with a traceback in the log and counted in :attr:`~WriteQueue.failed` (a
``TypeError`` or ``ValueError`` at once: it would fail again).

:meth:`WriteQueue.close` makes a final attempt: it keeps writing, through an outage too, for
up to ``timeout`` seconds; what is left then is counted in :attr:`~WriteQueue.dropped` and
logged in one line. Items put after :meth:`~WriteQueue.close` are dropped the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import RegistryUnavailable, is_unreachable, one_line
from .health import Outage

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_DELAYS = (0.2, 0.8)
"""Seconds before the second and third attempt at a write the database refused for its data."""
CLOSE_TIMEOUT = 5.0
"""Seconds :meth:`WriteQueue.close` keeps trying by default."""


@dataclass(slots=True)
class _Pending(Generic[T]):
    seq: int
    item: T
    size: int
    count: int


def _one_group(_item: object) -> Hashable:
    return None


class WriteQueue(Generic[T]):
    """A queue of items and the task that writes them; create and use it on one event loop.

    Args:
        name: What is written, for the log (``"transcripts"``, ``"audit"``).
        write: Writes one group of items (safe to repeat; see the module docstring).
        group: An item's group key (default: every item in one group).
        describe: A group's name in the log, from its first item.
        unit: What an item's ``count`` counts, for the log (``"lines"``, ``"rows"``).
        max_bytes: Bytes queued at most (see the module docstring).
        batch_bytes: Bytes taken for one round of writes, at most (at least one item).
        delay: Seconds the task waits after the first item is put before it writes, unless
            a :meth:`flush` waits (0: at once).
        retry_delay: Seconds before the first retry during an outage, doubling each time...
        max_retry_delay: ...up to this many.
    """

    def __init__(
        self,
        name: str,
        write: Callable[[list[T]], Awaitable[None]],
        *,
        group: Callable[[T], Hashable] = _one_group,
        describe: Callable[[T], str] = lambda _item: "",
        unit: str = "items",
        max_bytes: int,
        batch_bytes: int = 4 * 1024 * 1024,
        delay: float = 0.0,
        retry_delay: float = 0.2,
        max_retry_delay: float = 5.0,
    ) -> None:
        self.name = name
        self._write_group = write
        self._group = group
        self._describe = describe
        self._unit = unit
        self._max = max_bytes
        self._batch = batch_bytes
        self._delay = delay
        self._outage = Outage(retry_delay, max_retry_delay, name=name)
        self._queue: deque[_Pending[T]] = deque()
        self._bytes = 0  # queued and in flight
        self._count = 0  # units (e.g. lines) queued and in flight
        self._seq = 0  # the last sequence number handed out
        self._done = 0  # every item numbered up to this is written or given up
        self._waiters: deque[tuple[int, asyncio.Future[None], bool]] = deque()  # (seq, future, through an outage)
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # someone waits: write without the delay
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._dropped_now = 0  # dropped during this outage (logged when it ends)
        self.written = 0
        """Units written."""
        self.failed = 0
        """Units the database refused for their data (logged)."""
        self.dropped = 0
        """Units lost: beyond ``max_bytes`` during an outage, left when :meth:`close` gave up, or put after it."""

    # -- callers' side -------------------------------------------------------

    @property
    def pending_bytes(self) -> int:
        """Bytes queued or being written."""
        return self._bytes

    @property
    def outage(self) -> bool:
        """True while the database cannot be reached (the last write attempt failed so)."""
        return self._outage.since is not None

    async def put(self, item: T, *, size: int, count: int = 1) -> None:
        """Queue ``item`` (``size``: bytes it holds, roughly; ``count``: units, e.g. lines).

        Returns at once, except while the database answers and the buffer is full: then
        once the queue is written. During an outage an item that does not fit is dropped
        (see the module docstring).
        """
        while self._bytes and self._bytes + size > self._max:
            if self._closed or self._outage.since is not None:
                break
            with contextlib.suppress(RegistryUnavailable):  # an outage began: the loop drops it
                await self.flush()
        self.put_nowait(item, size=size, count=count)

    def put_nowait(self, item: T, *, size: int, count: int = 1) -> bool:
        """Queue ``item`` without ever waiting (a caller that must not block): an item that does
        not fit in ``max_bytes`` is dropped and counted in :attr:`dropped`. Returns whether it was queued."""
        if self._closed:
            self._lost(count, "after the queue was closed")
            return False
        if self._bytes and self._bytes + size > self._max:
            self._overflow(count)
            return False
        self._seq += 1
        self._queue.append(_Pending(self._seq, item, size, count))
        self._bytes += size
        self._count += count
        self._wake.set()
        self._start()
        return True

    async def flush(self) -> None:
        """Wait until everything put before this call is written (or given up).

        Raises:
            RegistryUnavailable: The database cannot be reached now (what waits is kept
                and written once it answers).
            RuntimeError: The writing task stopped before it got there.
        """
        if self._done >= self._seq:
            return
        if self._outage.since is not None:
            raise self._outage.refusal()
        await self._settled(self._seq, through_outage=False)

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Refuse new items, keep writing what waits for up to ``timeout`` seconds (through
        an outage too), then stop the task; what is left is counted in :attr:`dropped`."""
        self._closed = True
        if self._done < self._seq:
            with contextlib.suppress(TimeoutError, RuntimeError):
                async with asyncio.timeout(timeout):
                    await self._settled(self._seq, through_outage=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._count:
            why = self._outage.error or "it did not answer in time"
            log.error("%s: closing with %d %s not written (%d bytes): the database could not be written (%s)",
                      self.name, self._count, self._unit, self._bytes, why)
            self.dropped += self._count
            self._queue.clear()
            self._bytes = self._count = 0
            self._done = self._seq

    # -- internals -----------------------------------------------------------

    async def _settled(self, seq: int, *, through_outage: bool) -> None:
        self._start()
        self._urgent.set()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((seq, waiter, through_outage))
        await waiter

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"{self.name}-writer")
            self._task.add_done_callback(self._on_stopped)

    def _overflow(self, count: int) -> None:
        if not self._dropped_now:
            log.error("%s: %d bytes wait for the database, the most kept in memory: %s put until it answers "
                      "are dropped (the oldest stay queued)", self.name, self._bytes, self._unit)
        self._dropped_now += count
        self.dropped += count

    def _lost(self, count: int, why: str) -> None:
        self.dropped += count
        log.error("%s: %d %s not written: %s", self.name, count, self._unit, why)

    def _take(self) -> list[_Pending[T]]:
        taken = [self._queue.popleft()]
        size = taken[0].size
        while self._queue and size + self._queue[0].size <= self._batch:
            size += self._queue[0].size
            taken.append(self._queue.popleft())
        return taken

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._delay > 0 and not self._urgent.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), self._delay)
            self._urgent.clear()
            taken = self._take()
            groups: dict[Hashable, list[_Pending[T]]] = {}
            for pending in taken:
                groups.setdefault(self._group(pending.item), []).append(pending)
            for members in groups.values():
                await self._write(members)
            for pending in taken:
                self._bytes -= pending.size
                self._count -= pending.count
            self._done = taken[-1].seq
            self._release()

    async def _write(self, members: list[_Pending[T]]) -> None:
        items, count = [p.item for p in members], sum(p.count for p in members)
        attempt = 0
        while True:
            try:
                await self._write_group(items)
            except Exception as exc:
                if is_unreachable(exc) or isinstance(exc, RegistryUnavailable):
                    self._went_down(exc)
                    await asyncio.sleep(max(self._outage.next_retry() - asyncio.get_running_loop().time(), 0))
                    continue
                self._answered()  # it answered, with a refusal
                cause = getattr(exc, "orig", exc)  # SQLAlchemy wraps what a bind raised in StatementError
                if attempt == len(RETRY_DELAYS) or isinstance(cause, TypeError | ValueError):  # would fail again
                    log.exception("%s: gave up writing %d %s of %s", self.name, count, self._unit, self._describe(items[0]))
                    self.failed += count
                    return
                log.warning("%s: writing %s failed (attempt %d: %s), retrying",
                            self.name, self._describe(items[0]), attempt + 1, one_line(exc))
                await asyncio.sleep(RETRY_DELAYS[attempt])
                attempt += 1
                continue
            self._answered()
            self.written += count
            return

    def _went_down(self, exc: BaseException) -> None:
        self._outage.went_down(exc)
        refusal = self._outage.refusal()
        kept: deque[tuple[int, asyncio.Future[None], bool]] = deque()
        for seq, waiter, through in self._waiters:  # a flush does not wait for the outage to end
            if through:
                kept.append((seq, waiter, through))
            elif not waiter.done():
                waiter.set_exception(refusal)
        self._waiters = kept

    def _answered(self) -> None:
        if self._outage.since is None:
            return
        self._outage.answered(self._count, f"{self._unit} kept meanwhile")
        if self._dropped_now:
            log.error("%s: %d %s were dropped during the outage (beyond the %d bytes kept in memory)",
                      self.name, self._dropped_now, self._unit, self._max)
            self._dropped_now = 0

    def _release(self) -> None:
        kept: deque[tuple[int, asyncio.Future[None], bool]] = deque()
        for seq, waiter, through in self._waiters:
            if seq <= self._done:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                kept.append((seq, waiter, through))
        self._waiters = kept

    def _on_stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s writer crashed", self.name, exc_info=task.exception())
        while self._waiters:
            _, waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError(f"the {self.name} writer was stopped"))
