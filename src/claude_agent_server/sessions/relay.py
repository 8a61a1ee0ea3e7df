"""Events of the other nodes, relayed onto this node's streams (one event stream per cluster).

On PostgreSQL the registry tells this node each time another node commits events
(``LISTEN``/``NOTIFY``, see ``store/feed.py``); :class:`EventRelay` then reads the rows
after its cursor from the events table, the truth, and hands each to the journal
(:meth:`~.journal.EventJournal.relay`): the global stream (``GET /events``, OpenCode's
``/event``, the dashboard) and the log of a session loaded here but live elsewhere. On
SQLite (one node) it does nothing.

Text deltas, never stored, travel on the feed's connection (``deltas.py``): this node's go out
through a :class:`~.deltas.DeltaOutbox`, the others' come in through a :class:`~.deltas.DeltaInbox`
and are put on the streams here once the persisted event each follows has been relayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from ..store import EventFeed, Registry
from .deltas import DeltaInbox, DeltaOutbox
from .events import EventLog
from .journal import EventJournal

log = logging.getLogger(__name__)

PAGE = 1000
GATHER_SECONDS = 0.025
"""Seconds the relay waits after a notification before it reads, so the commits that follow
(a turn makes several in quick succession) cost one read of the events table, not one each."""
RELAYED_KEPT = 100_000
"""Ids of relayed events remembered (a held delta waits for the one it follows)."""


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
        self._cursor = self._start = 0
        self._wake = asyncio.Event()
        self._pull_wanted = False
        self._feed: EventFeed | None = None
        self._task: asyncio.Task[None] | None = None
        self._inbox = DeltaInbox(node_id)
        self._outbox: DeltaOutbox | None = None
        self._relayed: set[int] = set()
        self._relayed_order: deque[int] = deque()

    async def start(self) -> None:
        """Listen from now on (the cursor: the newest persisted event)."""
        self._cursor = self._start = await self._registry.last_event_id()
        self._feed = await self._registry.listen(self._notified, self._delta)
        if self._feed is not None:
            self._outbox = DeltaOutbox(self._node_id, self._feed.notify)
            self._journal.deltas = self._outbox.publish
            self._task = asyncio.create_task(self._run(), name="event-relay")

    def _notified(self, node_id: str) -> None:
        if node_id != self._node_id:
            self._pull_wanted = True
            self._wake.set()

    def _delta(self, payload: str) -> None:
        self._inbox.received(payload)
        if len(self._inbox):
            self._wake.set()

    def _was_relayed(self, event_id: int) -> bool:
        return event_id <= self._start or event_id in self._relayed

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                if self._pull_wanted:
                    await asyncio.sleep(GATHER_SECONDS)  # the other notifications of a turn's commits: one read for all
                    self._pull_wanted = False
                    await self.pull()
            except Exception as exc:
                log.warning("relaying other nodes' events failed: %s", exc)
                await asyncio.sleep(0.5)
                self._pull_wanted = True
                self._wake.set()
            self._deliver_deltas()

    def _deliver_deltas(self, before: int | None = None) -> None:
        """Put the held deltas that may go (see :meth:`DeltaInbox.ready`) on the streams."""
        for event in self._inbox.ready(self._was_relayed, before):
            self._journal.relay_delta(event, self._session_log(event.session_id) if event.session_id else None)

    async def pull(self) -> int:
        """Relay every event persisted after the cursor; returns how many rows were read."""
        read = 0
        while True:
            rows = await self._registry.events(session_id=None, after=self._cursor, limit=PAGE)
            for record in rows:
                self._deliver_deltas(before=record.id)  # in id order with the rows: no delta is skipped for a later row
                self._cursor = max(self._cursor, record.id)
                self._relayed.add(record.id)
                self._relayed_order.append(record.id)
                if len(self._relayed_order) > RELAYED_KEPT:
                    self._relayed.discard(self._relayed_order.popleft())
                self._journal.relay(record, self._session_log(record.session_id) if record.session_id else None)
            read += len(rows)
            if len(rows) < PAGE:
                return read

    async def close(self) -> None:
        self._journal.deltas = None
        if self._outbox is not None:
            await self._outbox.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._feed is not None:
            await self._feed.close()
