"""``WriteBehindStore``: a ``SessionStore`` whose ``append`` queues, so the SDK's turns do not wait for the database.

The SDK awaits its transcript mirror's flush before it hands a turn's ``result``
to the caller, with ``session_store_flush`` "batched" and "eager" alike
(``claude_agent_sdk._internal.query.Query._read_messages``): whatever
``append`` costs is added to every turn. Here ``append`` puts the lines in a
:class:`~.write_queue.WriteQueue` and returns; its task writes them to the inner
store (:data:`WRITE_DELAY` after the first line queued, at once when someone waits
for it), all that is queued at a time in one write per transcript (each transcript's
lines in append order; transcripts in the order of their first queued line).

**A database outage** (of any length) loses no line as long as what waits fits in
``buffer_bytes`` (:data:`BUFFER_BYTES`, 64 MiB of JSON by default): the write is retried
with backoff (0.2 s doubling up to 5 s) until the database answers, then everything
queued is written in order. Retrying is safe: an entry's ``uuid`` is its idempotency key
(the SDK's ``SessionStore`` contract), so lines a broken connection did commit are not
added twice. Beyond ``buffer_bytes`` during an outage, newer lines are dropped (logged
once per outage, counted in :attr:`WriteBehindStore.dropped`); the CLI's local file
still has them. While the database answers, an ``append`` beyond it waits for the queue
instead (slower turns, nothing lost). See :mod:`.write_queue` for the rules.

Reads and ``delete`` first wait for what this store queued before them, so they see its
appends (during an outage they raise :class:`~.errors.RegistryUnavailable` at once);
another process sees them once written: :meth:`WriteBehindStore.flush` before another
node may resume a session. :meth:`WriteBehindStore.close` keeps trying for
:data:`~.write_queue.CLOSE_TIMEOUT` seconds; lines still queued then, or when the process
dies, are not in the store (the CLI's local file has them).
"""

from __future__ import annotations

import json

from claude_agent_sdk import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
)
from sqlalchemy.exc import SQLAlchemyError

from .errors import StoreError
from .transcripts import SqlTranscriptStore, TranscriptPlace
from .write_queue import CLOSE_TIMEOUT, WriteQueue


WRITE_DELAY = 0.05
"""Seconds the task waits after the first queued append before it writes (unless a read or
:meth:`WriteBehindStore.flush` waits for it): the SDK appends a turn's lines just before it
hands over the turn's ``result``, and a write at once would run on the event loop while the
turn's reply is still being sent."""
BUFFER_BYTES = 64 * 1024 * 1024
"""Bytes of transcript lines (their JSON) kept in memory while they wait for the database."""

Queued = tuple[SessionKey, list[SessionStoreEntry]]


class WriteBehindStore(SessionStore):
    """Queues appends for ``inner`` and writes them from one task; create and use it on one event loop.

    Args:
        inner: The store written to.
        buffer_bytes: Bytes of lines (their JSON) queued at most (see the module docstring).
        delay: Seconds before a queued append is written when nobody waits for it.
        retry_delay: Seconds before the first retry during an outage (doubling up to 5 s).
    """

    def __init__(
        self, inner: SqlTranscriptStore, *, buffer_bytes: int = BUFFER_BYTES, delay: float = WRITE_DELAY, retry_delay: float = 0.2,
    ) -> None:
        self.inner = inner
        self._queue: WriteQueue[Queued] = WriteQueue(
            "transcripts", self._write, group=_group, describe=lambda item: _show(item[0]), unit="lines",
            max_bytes=buffer_bytes, delay=delay, retry_delay=retry_delay,
        )

    @property
    def failed(self) -> int:
        """Lines the database refused for their data (logged; the CLI's local file still has them)."""
        return self._queue.failed

    @property
    def dropped(self) -> int:
        """Lines never written: beyond ``buffer_bytes`` during an outage, or left at :meth:`close` (logged)."""
        return self._queue.dropped

    @property
    def pending_bytes(self) -> int:
        """Bytes of lines waiting to be written."""
        return self._queue.pending_bytes

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Queue ``entries`` for the inner store's ``append`` and return (an empty list does nothing).

        Waits only while the database answers and more than ``buffer_bytes`` are queued,
        until they are written.
        """
        if not entries:
            return
        lines = list(entries)
        await self._queue.put((key, lines), size=len(json.dumps(lines, default=str)), count=len(lines))

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
            RegistryUnavailable: The database cannot be reached now (the lines stay queued).
            RuntimeError: The writing task was stopped (cancelled) before it got there.
        """
        await self._queue.flush()

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Write what is queued (trying for up to ``timeout`` seconds), then stop the task;
        later appends are dropped (logged)."""
        await self._queue.close(timeout)

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

    async def _write(self, items: list[Queued]) -> None:
        """One transcript's queued lines (``items`` share a key), in one append."""
        await self.inner.append(items[0][0], [line for _, lines in items for line in lines])


def _group(item: Queued) -> tuple[str, str, str]:
    key = item[0]
    return key["project_key"], key["session_id"], key.get("subpath") or ""


def _show(key: SessionKey) -> str:
    return "/".join(filter(None, (key["project_key"], key["session_id"], key.get("subpath"))))
