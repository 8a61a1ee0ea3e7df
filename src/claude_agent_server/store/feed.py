"""Live fan-out of events between nodes on PostgreSQL: ``LISTEN``/``NOTIFY``, the table staying the truth.

Each node's writer sends ``NOTIFY agent_server_events, '<node id>'`` in the transaction that
inserts a batch of events, so the notification arrives at commit, when the rows are readable.
:class:`EventFeed` holds one asyncpg connection of its own that ``LISTEN``\\ s (asyncpg's
``add_listener``) and calls back with the sender's node id; the listener then reads the new
rows from the table. A lost connection is re-opened (and the callback called once, since
notifications may have been missed meanwhile).

The same connection carries the nodes' text deltas, which are never stored: each node sends
its own on :data:`DELTAS_CHANNEL` (:meth:`EventFeed.notify`) and hears the others' there
(payloads as ``sessions/deltas.py`` makes them; one lost while the connection is down is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

__all__ = ["DELTAS_CHANNEL", "EVENTS_CHANNEL", "EventFeed"]

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "agent_server_events"
DELTAS_CHANNEL = "agent_server_deltas"
RECONNECT_DELAY = 1.0


class EventFeed:
    """A ``LISTEN`` on :data:`EVENTS_CHANNEL` (and :data:`DELTAS_CHANNEL` with ``on_delta``);
    create with :meth:`start`, end with :meth:`close`."""

    def __init__(self, url: URL, on_notify: Callable[[str], None], on_delta: Callable[[str], None] | None = None) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_notify = on_notify
        self._on_delta = on_delta
        self._connection: Any = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, url: URL, on_notify: Callable[[str], None], on_delta: Callable[[str], None] | None = None) -> EventFeed:
        """Connect and listen (raises what asyncpg raises when the first connection fails)."""
        feed = cls(url, on_notify, on_delta)
        await feed._connect()
        feed._task = asyncio.create_task(feed._keep(), name="event-feed")
        return feed

    async def _connect(self) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=10)
        connection.add_termination_listener(lambda _conn: self._lost.set())
        await connection.add_listener(EVENTS_CHANNEL, self._notified)
        if self._on_delta is not None:
            await connection.add_listener(DELTAS_CHANNEL, self._delta)
        self._connection = connection
        self._lost.clear()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_notify(payload)

    def _delta(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        assert self._on_delta is not None
        self._on_delta(payload)

    async def notify(self, payloads: list[str]) -> None:
        """``NOTIFY`` each payload on :data:`DELTAS_CHANNEL`, in order, in one round trip.

        Raises:
            ConnectionError: The connection is down (being re-opened).
            asyncpg.PostgresError: PostgreSQL refused (e.g. a payload over 8000 bytes).
        """
        connection = self._connection
        if connection is None or self._lost.is_set():
            raise ConnectionError("the feed's connection is down")
        if payloads:
            await connection.executemany("SELECT pg_notify($1, $2)", [(DELTAS_CHANNEL, p) for p in payloads])

    async def _keep(self) -> None:
        while True:
            await self._lost.wait()
            log.warning("event feed: the LISTEN connection was lost; reconnecting")
            while True:
                await asyncio.sleep(RECONNECT_DELAY)
                try:
                    await self._connect()
                    break
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("event feed: reconnecting failed: %s", exc)
            self._on_notify("")  # something may have been missed meanwhile

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
