"""Typed session events and the per-session event log.

Every session produces one ordered stream of :class:`Event` objects with ids
1, 2, 3, ... This single stream feeds the blocking reply, SSE subscribers, the
``/status`` view and the permission flow.

Event types and their ``data`` (all also carry ``type``, ``session_id``, ``id``
and ``created_at`` in their JSON form):

==================== ==============================================================
``turn_started``     ``message`` (the prompt)
``text_delta``       ``text``, ``parent_tool_use_id``
``assistant_message`` ``model``, ``content`` (items as in the blocking reply),
                     ``parent_tool_use_id``, ``error``
``tool_result``      ``tool_use_id``, ``content`` (str), ``is_error``
``permission_request`` see :meth:`PermissionRequest.to_dict`
``permission_resolved`` ``request_id``, ``allowed``, ``reason`` (user, timeout,
                     interrupted, session_closed, cancelled), ``message``
``result``           ``result``, ``cost_usd``, ``num_turns``, ``duration_ms``,
                     ``usage``, ``is_error``, ``stop_reason``, ``terminal_reason``
``error``            ``message``; ends a turn that cannot produce a result
``status``           ``status`` (see :data:`SessionStatus`)
==================== ==============================================================
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal[
    "turn_started",
    "text_delta",
    "assistant_message",
    "tool_result",
    "permission_request",
    "permission_resolved",
    "result",
    "error",
    "status",
]
TURN_END: frozenset[str] = frozenset({"result", "error"})
"""Event types that end a turn."""


@dataclass(frozen=True, slots=True)
class Event:
    """One session event; ``created_at`` is UTC ISO-8601, as every time in the API."""

    id: int
    type: EventType
    session_id: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_dict(self) -> dict[str, Any]:
        """The event's JSON form: ``{id, type, session_id, created_at, **data}``.

        A ``permission_request``'s ``created_at`` is the request's own (also UTC ISO-8601).
        """
        return {"id": self.id, "type": self.type, "session_id": self.session_id, "created_at": self.created_at, **self.data}


class EventLog:
    """An append-only event sequence with a bounded replay buffer and live subscribers.

    Args:
        session_id: Stamped on every event.
        maxlen: Events kept for replay; older ones are dropped.
    """

    def __init__(self, session_id: str, maxlen: int = 2000) -> None:
        self.session_id = session_id
        self._buffer: deque[Event] = deque(maxlen=maxlen)
        self._last_id = 0
        self._changed = asyncio.Event()
        self._closed = False

    @property
    def last_id(self) -> int:
        """Id of the newest event (0 before the first)."""
        return self._last_id

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, type: EventType, /, **data: Any) -> Event:
        """Record an event and wake every subscriber. Returns the event."""
        self._last_id += 1
        event = Event(self._last_id, type, self.session_id, data)
        self._buffer.append(event)
        self._wake()
        return event

    def close(self) -> None:
        """End the log: subscribers finish after the events already recorded."""
        self._closed = True
        self._wake()

    def since(self, after: int) -> list[Event]:
        """Buffered events with an id greater than ``after``, oldest first."""
        if not self._buffer or after >= self._last_id:
            return []
        first = self._buffer[0].id
        start = max(after + 1 - first, 0)
        return [self._buffer[i] for i in range(start, len(self._buffer))]

    async def subscribe(self, after: int = 0) -> AsyncIterator[Event]:
        """Yield buffered events with id > ``after``, then live ones until the log closes.

        A subscriber that falls further behind than the buffer misses the
        dropped events; it can tell from a gap in the ids.
        """
        cursor = after
        while True:
            waiter = self._changed
            events = self.since(cursor)
            for event in events:
                cursor = event.id
                yield event
            if not events:
                if self._closed:
                    return
                await waiter.wait()

    def _wake(self) -> None:
        waiter, self._changed = self._changed, asyncio.Event()
        waiter.set()
