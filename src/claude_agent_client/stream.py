"""A session's event stream that survives dropped connections.

:class:`EventFollower` wraps ``GET /sessions/{id}/events``: when the connection
breaks it reconnects with ``Last-Event-ID`` set to the last event it yielded, so
the server replays exactly the missed events — none twice, none lost (as long
as the server's replay buffer still holds them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from .api import AgentClient
from .errors import ServerUnavailable
from .wire import StatusSnapshot, StreamItem

__all__ = ["EventFollower", "RETRY_DELAYS"]

RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 2.0, 3.0)
"""Seconds to wait before each reconnection attempt (about 9 s in all)."""


class EventFollower:
    """Iterate over a session's events, reconnecting when the stream drops.

    Yields a :class:`~claude_agent_client.wire.StatusSnapshot` at the start of every
    connection — ``reconnects`` tells whether it is the first — then events (protocol
    models, see :meth:`AgentClient.events`) with strictly increasing ids. Ends when the
    session closes.

    Args:
        client: The API client.
        session_id: The session to follow.
        after: Replay events with a greater id; ``None``: only events from now on.
        retry_delays: Waits before successive reconnection attempts; when they are
            used up without a working connection, :class:`ServerUnavailable` is raised.

    Attributes:
        last_event_id: Id of the newest event yielded (or the snapshot's cursor).
        reconnects: Connections opened after the first.
    """

    def __init__(self, client: AgentClient, session_id: str, after: int | None = None, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.client = client
        self.session_id = session_id
        self.last_event_id = after
        self.reconnects = 0
        self._retry_delays = tuple(retry_delays)

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._follow()

    async def _follow(self) -> AsyncIterator[StreamItem]:
        failures = 0
        connections = 0
        while True:
            try:
                async for event in self.client.events(self.session_id, self.last_event_id):
                    if isinstance(event, StatusSnapshot):
                        if connections:
                            self.reconnects += 1
                        connections += 1
                        if self.last_event_id is None:
                            self.last_event_id = event.last_event_id
                        yield event
                        continue
                    if event.id <= (self.last_event_id or 0):
                        continue  # never show an event twice
                    failures = 0
                    self.last_event_id = event.id
                    yield event
                return  # the server ended the stream: the session closed
            except ServerUnavailable:
                if failures >= len(self._retry_delays):
                    raise
                await asyncio.sleep(self._retry_delays[failures])
                failures += 1
