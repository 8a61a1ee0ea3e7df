"""``WriteBehindStore``: a ``SessionStore`` whose ``append`` queues, so the SDK's turns do not wait for the database.

The SDK awaits its transcript mirror's flush before it hands a turn's ``result``
to the caller, with ``session_store_flush`` "batched" and "eager" alike
(``claude_agent_sdk._internal.query.Query._read_messages``): whatever
``append`` costs is added to every turn. Here ``append`` puts the lines in a
queue and returns; one task writes the queue to the inner store (:data:`WRITE_DELAY` after
the first line queued, at once when someone waits for it), all that is
queued at a time in one write per transcript (each transcript's lines in
append order; the order between transcripts is not kept), retrying a failed
write twice (as the SDK's mirror would) before it logs it and counts it in
:attr:`WriteBehindStore.failed`. Reads and ``delete`` first wait for what this
store queued before them, so they see its appends; another process sees them
once written: :meth:`WriteBehindStore.flush` before another node may resume a session.

What is lost against the SDK's own retries: a write given up here is not
reported back as a ``MirrorErrorMessage``, and lines still queued when the
process dies are not in the store (the CLI's local file has them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from claude_agent_sdk import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
)

from sqlalchemy.exc import SQLAlchemyError

from .errors import StoreError, is_unreachable
from .transcripts import SqlTranscriptStore, TranscriptPlace

log = logging.getLogger(__name__)

WRITE_DELAY = 0.05
"""Seconds the task waits after the first queued append before it writes (unless a read or
:meth:`WriteBehindStore.flush` waits for it): the SDK appends a turn's lines just before it
hands over the turn's ``result``, and a write at once would run on the event loop while the
turn's reply is still being sent."""
RETRY_DELAYS = (0.2, 0.8)
"""Seconds before the second and third attempt at a write (the SDK's mirror uses the same)."""


class WriteBehindStore(SessionStore):
    """Queues appends for ``inner`` and writes them from one task; create and use it on one event loop.

    Args:
        inner: The store written to.
        queue_limit: Lines queued at most; an append beyond it waits until the
            queue is written (slower turns, nothing lost).
    """

    def __init__(self, inner: SqlTranscriptStore, *, queue_limit: int = 50_000, delay: float = WRITE_DELAY) -> None:
        self.inner = inner
        self._limit = queue_limit
        self._delay = delay
        self._urgent = asyncio.Event()  # someone waits for the queue: write without the delay
        self._queue: deque[tuple[int, SessionKey, list[SessionStoreEntry]]] = deque()  # (seq, key, lines)
        self._queued = 0  # lines in _queue
        self._seq = 0  # the last sequence number handed out
        self._done = 0  # every append numbered up to this is written (or given up)
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failed = 0
        """Lines whose write was given up after every attempt (logged; the CLI's local file still has them)."""

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Queue ``entries`` for the inner store's ``append`` and return (an empty list does nothing).

        Waits only when more than ``queue_limit`` lines are queued, until they are written.
        """
        if not entries:
            return
        self._seq += 1
        self._queue.append((self._seq, key, list(entries)))
        self._queued += len(entries)
        self._wake.set()
        self._start()
        if self._queued > self._limit:
            await self.flush()

    async def write_now(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """The inner store's ``append``, awaited (not queued): the lines are written when this returns.

        Raises:
            StoreError: The database refused them (nothing of them is kept).
        """
        try:
            await self.inner.append(key, entries)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"the transcript {_show(key)} could not be written: {str(exc).splitlines()[0]}") from exc

    async def flush(self) -> None:
        """Wait until every append made before this call is written (or given up).

        Raises:
            RuntimeError: The writing task was stopped (cancelled) before it got there.
        """
        if self._done >= self._seq:
            return
        self._start()
        self._urgent.set()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((self._seq, waiter))
        await waiter

    async def close(self) -> None:
        """Write what is queued, then stop the task (a later append starts it again)."""
        while self._done < self._seq:
            await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """The inner store's ``load``, after this store's earlier appends are written."""
        await self.flush()
        return await self.inner.load(key)

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        """The inner store's ``list_sessions``, after this store's earlier appends are written."""
        await self.flush()
        return await self.inner.list_sessions(project_key)

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        """The inner store's ``list_session_summaries``, after this store's earlier appends are written."""
        await self.flush()
        return await self.inner.list_session_summaries(project_key)

    async def locate(self, session_id: str | None = None) -> list[TranscriptPlace]:
        """The inner store's ``locate`` (see :meth:`.SqlTranscriptStore.locate`), after this store's earlier appends are written."""
        await self.flush()
        return await self.inner.locate(session_id)

    async def delete(self, key: SessionKey) -> None:
        """The inner store's ``delete``, after this store's earlier appends are written."""
        await self.flush()
        await self.inner.delete(key)

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        """The inner store's ``list_subkeys``, after this store's earlier appends are written."""
        await self.flush()
        return await self.inner.list_subkeys(key)

    # -- the task ----------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="transcript-writer")
            self._task.add_done_callback(self._on_stopped)

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
            # Everything queued so far, one write per transcript, each transcript's lines in append order.
            batch: dict[tuple[str, str, str], tuple[SessionKey, list[SessionStoreEntry]]] = {}
            while self._queue:
                seq, key, entries = self._queue.popleft()
                self._queued -= len(entries)
                _, lines = batch.setdefault((key["project_key"], key["session_id"], key.get("subpath") or ""), (key, []))
                lines += entries
            for key, lines in batch.values():
                await self._write(key, lines)
            self._done = seq
            while self._waiters and self._waiters[0][0] <= seq:
                _, waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)

    async def _write(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        attempt = 0
        while True:
            try:
                await self.inner.append(key, entries)
                return
            except Exception as exc:
                cause = getattr(exc, "orig", exc)  # SQLAlchemy wraps what a bind raised in StatementError
                if attempt == len(RETRY_DELAYS) and is_unreachable(exc):  # the database is away: no traceback to read
                    log.error("transcripts: gave up writing %d lines of %s: the database does not answer (%s)",
                              len(entries), _show(key), type(exc).__name__)
                    self.failed += len(entries)
                    return
                if attempt == len(RETRY_DELAYS) or isinstance(cause, TypeError | ValueError):  # would fail again
                    log.exception("transcripts: gave up writing %d lines of %s", len(entries), _show(key))
                    self.failed += len(entries)
                    return
                log.warning("transcripts: writing %s failed (attempt %d: %s), retrying", _show(key), attempt + 1, exc)
                await asyncio.sleep(RETRY_DELAYS[attempt])
                attempt += 1

    def _on_stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("transcript writer crashed", exc_info=task.exception())
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the transcript writer was stopped"))


def _show(key: SessionKey) -> str:
    return "/".join(filter(None, (key["project_key"], key["session_id"], key.get("subpath"))))
