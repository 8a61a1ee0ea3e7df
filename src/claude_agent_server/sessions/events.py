"""Typed events, their ids, and the event logs that replay and stream them.

Every session produces one ordered stream of :class:`Event` objects. This
single stream feeds the blocking reply, SSE subscribers, the ``/status`` view,
the permission flow and the registry (every event but ``text_delta`` is
persisted). The server's global stream (``GET /events``) carries every
session's events except ``status`` plus lifecycle events.

Event ids come from one :class:`EventClock` per server: integers that increase
across sessions, hibernation and restarts (microseconds since the epoch, or one
more than the last id when that is larger), so a ``Last-Event-ID`` is valid on
either stream and across restarts. Ids are not contiguous.

**The cursor rule.** A stream resumes after any cursor up to the clock's bound,
``max(last id handed out, now in microseconds)`` (:meth:`EventClock.admit`), and
the clock then moves past the cursor, so every later event has a larger id. A
cursor from before a crash therefore always resumes, even the id of a frame that
was never stored (a ``text_delta``, or an event the crash caught in the writer's
queue): the client gets what was stored after it, then live events. Only a cursor
beyond the bound (from the future: no server on this clock issued it) is refused.

Session event types and their ``data`` (all also carry ``type``,
``session_id``, ``id`` and ``created_at`` in their JSON form):

==================== ==============================================================
``turn_started``     ``message`` (the prompt)
``text_delta``       ``text``, ``parent_tool_use_id`` (not persisted)
``assistant_message`` ``model``, ``content`` (items as in the blocking reply),
                     ``parent_tool_use_id``, ``error``
``tool_result``      ``tool_use_id``, ``content`` (str), ``is_error``
``permission_request`` see :meth:`PermissionRequest.to_dict`
``permission_resolved`` ``request_id``, ``tool_use_id``, ``allowed``, ``applied_suggestions``
                     (the suggested rules were applied: "always allow"), ``reason`` (user, timeout,
                     interrupted, session_closed, server_shutdown, cancelled,
                     policy: the session's permission policy denied it), ``message``
``result``           ``result``, ``cost_usd``, ``num_turns``, ``duration_ms``,
                     ``usage``, ``is_error``, ``stop_reason``, ``terminal_reason``
``error``            ``message``, ``reason`` (``process_exited``, ``server_restart``,
                     ``session_closed``, ``send_failed``); ends a turn that cannot
                     produce a result
``status``           ``status`` (see :data:`SessionStatus`)
==================== ==============================================================

Lifecycle events (global stream only): ``session_created`` (``session``: the
session's list entry), ``session_status`` (``status``, ``state``), ``session_deleted``.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    "session_created",
    "session_status",
    "session_deleted",
]
TURN_END: frozenset[str] = frozenset({"result", "error"})
"""Event types that end a turn."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event; ``created_at`` is UTC ISO-8601, as every time in the API."""

    id: int
    type: EventType
    session_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    _json: str | None = field(default=None, init=False, repr=False, compare=False)

    def json(self) -> str:
        """:meth:`to_dict` as JSON text, made once (each log holding the event and each SSE
        subscriber uses the same text)."""
        if self._json is None:
            object.__setattr__(self, "_json", json.dumps(self.to_dict(), default=str))
        return self._json  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """The event's JSON form: ``{id, type, session_id, created_at, **data}``.

        A ``permission_request``'s ``created_at`` is the request's own (also UTC ISO-8601).
        """
        return {"id": self.id, "type": self.type, "session_id": self.session_id, "created_at": self.created_at, **self.data}


class EventClock:
    """Hands out event ids that only increase, also across restarts.

    Args:
        last: The greatest id already used (e.g. the registry's last persisted id).
    """

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def next(self) -> int:
        """A new id: microseconds since the epoch, or ``last + 1`` if that is larger."""
        self.last = max(self.last + 1, time.time_ns() // 1000)
        return self.last

    def bound(self) -> int:
        """The greatest id this clock (or one before a restart, on the same wall clock)
        can have handed out by now: ``max(last, now in microseconds)``."""
        return max(self.last, time.time_ns() // 1000)

    def admit(self, cursor: int) -> bool:
        """Whether a client's cursor may be resumed after (``cursor <= bound()``); if so the
        clock moves past it, so every id handed out later is larger than ``cursor``."""
        if cursor > self.bound():
            return False
        self.last = max(self.last, cursor)
        return True


def _size(event: Event) -> int:
    """About how many bytes an event holds in memory (its data's JSON length, plus a little)."""
    text = event.data.get("text") if event.type == "text_delta" else None
    if isinstance(text, str):
        return len(text) + 128
    return len(event.json()) + 64


History = Callable[[int], Awaitable[list[Event]]]
"""``history(after)``: persisted events with ``id > after``, oldest first (a page)."""
Sink = Callable[[Event], None]
"""Called with every event appended to a log (persist it, forward it)."""
Durable = Callable[[], Awaitable[None]]
"""``await durable()``: returns once every event handed to the sink so far is durable."""


class EventLog:
    """An ordered event sequence: a bounded replay buffer, live subscribers, and the
    registry behind it for what the buffer no longer (or never) held.

    Args:
        session_id: Stamped on events built by :meth:`append` (None for the global log).
        clock: Where ids come from.
        maxlen: Events kept in memory for replay.
        history: Loads older events from the registry; None: memory only.
        sink: Called with every event appended.
        max_bytes: Bytes of events (their JSON data, roughly) kept in memory; the
            newest event is kept whatever its size.
        durable: Waits until what the sink was given is durable (the registry's flush).
    """

    def __init__(
        self,
        session_id: str | None,
        clock: EventClock,
        maxlen: int = 2000,
        history: History | None = None,
        sink: Sink | None = None,
        max_bytes: int = 8 * 1024 * 1024,
        durable: Durable | None = None,
    ) -> None:
        self.session_id = session_id
        self._clock = clock
        self._buffer: deque[Event] = deque()
        self._sizes: deque[int] = deque()
        self._bytes = 0
        self._maxlen = maxlen
        self._max_bytes = max_bytes
        self._history = history
        self._sink = sink
        self._durable = durable
        self._floor = clock.last
        """Every event with an id up to this is not in the buffer (it may be in the registry)."""
        self._changed = asyncio.Event()
        self._closed = False
        self.subscribers = 0
        """Subscribers iterating :meth:`subscribe` now."""

    @property
    def last_id(self) -> int:
        """Id of the newest event (or a lower bound of "now" before the first)."""
        return self._buffer[-1].id if self._buffer else self._floor

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def clock(self) -> EventClock:
        """Where the log's ids come from."""
        return self._clock

    def replays_from_memory(self, after: int) -> bool:
        """Whether :meth:`subscribe` from ``after`` starts without reading the registry."""
        return self._history is None or after >= self._floor

    def append(self, type: EventType, /, **data: Any) -> Event:
        """Record a new event, hand it to the sink and wake every subscriber. Returns it."""
        return self.publish(Event(self._clock.next(), type, self.session_id, data))

    def publish(self, event: Event) -> Event:
        """Record an event built elsewhere (its id from the same clock)."""
        size = _size(event)
        self._buffer.append(event)
        self._sizes.append(size)
        self._bytes += size
        while len(self._buffer) > 1 and (len(self._buffer) > self._maxlen or self._bytes > self._max_bytes):
            self._floor = self._buffer.popleft().id
            self._bytes -= self._sizes.popleft()
        if self._sink is not None:
            self._sink(event)
        self._wake()
        return event

    def relay(self, event: Event) -> bool:
        """Record an event another node persisted (the sink is skipped: it is stored already),
        unless it is not newer than :attr:`last_id` (ids only increase within a stream).
        Returns whether it was recorded."""
        if event.id <= self.last_id:
            return False
        sink, self._sink = self._sink, None
        try:
            self.publish(event)
        finally:
            self._sink = sink
        return True

    async def wait_durable(self) -> None:
        """Return once every event appended so far is durable (at once for a log that
        persists nothing).

        Raises:
            claude_agent_server.store.StoreError: Not within the registry's flush timeout.
            RuntimeError: The registry's writer has stopped.
        """
        if self._durable is not None:
            await self._durable()

    def close(self) -> None:
        """End the log: subscribers finish after the events already recorded."""
        self._closed = True
        self._wake()

    def since(self, after: int) -> list[Event]:
        """Buffered events with an id greater than ``after``, oldest first."""
        start = bisect.bisect_right(self._buffer, after, key=lambda event: event.id)
        return [self._buffer[i] for i in range(start, len(self._buffer))]

    async def subscribe(self, after: int = 0) -> AsyncIterator[Event]:
        """Yield events with id > ``after`` (from the registry, then the buffer), then
        live ones until the log closes.

        A subscriber that falls further behind than the buffer continues from the
        registry; ``text_delta`` events are only ever replayed from memory.
        """
        cursor = after
        self.subscribers += 1
        try:
            while True:
                if self._history is not None and cursor < self._floor:
                    floor = self._floor
                    page = [event for event in await self._history(cursor) if event.id <= floor]
                    for event in page:
                        cursor = event.id
                        yield event
                    if not page:
                        cursor = floor  # nothing else up to the floor was persisted
                    continue
                waiter = self._changed
                events = self.since(cursor)
                for event in events:
                    cursor = event.id
                    yield event
                if not events:
                    if self._closed:
                        return
                    await waiter.wait()
        finally:
            self.subscribers -= 1

    def trim(self) -> None:
        """Drop the buffer (a hibernating session); replay then comes from the registry."""
        if self._history is not None and self._buffer:
            self._floor = self._buffer[-1].id
            self._buffer.clear()
            self._sizes.clear()
            self._bytes = 0

    def _wake(self) -> None:
        waiter, self._changed = self._changed, asyncio.Event()
        waiter.set()
