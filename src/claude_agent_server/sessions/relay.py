"""Events of the other nodes, relayed onto this node's streams (one event stream per cluster).

On PostgreSQL the registry tells this node each time another node commits events
(``LISTEN``/``NOTIFY``, see ``store/feed.py``); :class:`EventRelay` then reads the rows
after its cursor from the events table, the truth, and hands each to the journal
(:meth:`~.journal.EventJournal.relay`): the global stream (``GET /events``, OpenCode's
``/event``, the dashboard) and the log of a session loaded here but live elsewhere. On
SQLite (one node) it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ..store import EventFeed, Registry
from .events import EventLog
from .journal import EventJournal

log = logging.getLogger(__name__)

PAGE = 1000


class EventRelay:
    """Pulls other nodes' events as they are announced.

    Args:
        registry: The shared registry.
        journal: This node's journal.
        node_id: This node's id (its own announcements are ignored).
        session_log: The log of a session loaded here and not live here, or None.
    """

    def __init__(self, registry: Registry, journal: EventJournal, node_id: str, session_log: Callable[[str], EventLog | None]) -> None:
        self._registry = registry
        self._journal = journal
        self._node_id = node_id
        self._session_log = session_log
        self._cursor = 0
        self._wake = asyncio.Event()
        self._feed: EventFeed | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen from now on (the cursor: the newest persisted event)."""
        self._cursor = await self._registry.last_event_id()
        self._feed = await self._registry.listen(self._notified)
        if self._feed is not None:
            self._task = asyncio.create_task(self._run(), name="event-relay")

    def _notified(self, node_id: str) -> None:
        if node_id != self._node_id:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.pull()
            except Exception as exc:
                log.warning("relaying other nodes' events failed: %s", exc)
                await asyncio.sleep(0.5)
                self._wake.set()

    async def pull(self) -> int:
        """Relay every event persisted after the cursor; returns how many rows were read."""
        read = 0
        while True:
            rows = await self._registry.events(session_id=None, after=self._cursor, limit=PAGE)
            for record in rows:
                self._cursor = max(self._cursor, record.id)
                self._journal.relay(record, self._session_log(record.session_id) if record.session_id else None)
            read += len(rows)
            if len(rows) < PAGE:
                return read

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._feed is not None:
            await self._feed.close()
