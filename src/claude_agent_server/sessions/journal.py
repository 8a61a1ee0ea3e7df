"""The event journal: where every event goes — its id, the registry, the global stream, observers.

One per server. It hands each session an :class:`~.events.EventLog` whose events
go to the observers at once and, once the session is registered, to the registry
(every type but ``text_delta``) and to the global stream (every type but
``status``). Lifecycle events (``session_created``, ``session_status``,
``session_deleted``) exist on the global stream only.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from ..store import EventRecord, Registry
from .events import Event, EventClock, EventLog

log = logging.getLogger(__name__)

OWN_IDS_KEPT = 100_000
"""Ids of this node's persisted events remembered, so the relay skips them."""
GLOBAL_BUFFER = 10_000
"""Events of the global stream kept in memory for replay (older ones come from the registry)."""


def _to_record(event: Event, server: bool = False) -> EventRecord:
    return EventRecord(event.id, event.session_id, event.type, event.data, event.created_at, server)


def _to_event(record: EventRecord) -> Event:
    return Event(record.id, record.type, record.session_id, record.data, record.created_at)  # type: ignore[arg-type]


class EventJournal:
    """Event ids, persistence, the global stream and observers for one server.

    Args:
        registry: Where events are persisted.
        registered: Whether a session's events are kept yet (a starting or warm
            session's are not, until it is registered).
        buffer_size: Events kept in memory per session.
        buffer_bytes: Bytes of events kept in memory per session.
    """

    def __init__(self, registry: Registry, registered: Callable[[str | None], bool], *, buffer_size: int, buffer_bytes: int) -> None:
        self._registry = registry
        self._registered = registered
        self._buffer_size = buffer_size
        self._buffer_bytes = buffer_bytes
        self.clock = EventClock()
        self.events = EventLog(None, self.clock, GLOBAL_BUFFER, history=self._global_history)
        """The global stream: every session's events (``status`` excepted) and lifecycle events."""
        self._own: set[int] = set()
        self._own_order: deque[int] = deque()
        """Ids of the events this node persisted lately (another node's are relayed, see :meth:`relay`)."""
        self._last_persisted = 0
        """Id of the last event this node handed to the registry (a text delta follows it)."""
        self.deltas: Callable[[Event, int], None] | None = None
        """Sends this node's text deltas to the other nodes (``deltas(event, after)``; see ``deltas.py``)."""
        self.observers: list[Callable[[Event], None]] = []
        """Called with every event (session and lifecycle events), synchronously: keep them cheap."""

    async def resume(self) -> None:
        """Continue the ids where the registry left them (a server restart)."""
        self.clock.last = max(self.clock.last, await self._registry.last_event_id())
        self.events = EventLog(None, self.clock, GLOBAL_BUFFER, history=self._global_history)

    def session_log(self, session_id: str) -> EventLog:
        """A new event log for one session, replaying from the registry what it no longer holds."""

        async def history(after: int) -> list[Event]:
            await self._registry.flush()
            return [_to_event(r) for r in await self._registry.events(session_id=session_id, after=after)]

        return EventLog(
            session_id, self.clock, self._buffer_size, history=history, sink=self._on_event,
            max_bytes=self._buffer_bytes, durable=self._registry.flush,
        )

    def record(self, session_id: str, type: str, **data: Any) -> Event:
        """Persist an event of a session that is not loaded (recovery after a restart) and
        put it on the global stream as a loaded session's would be (a ``status`` event is
        not; announce its ``session_status`` instead). Returns it."""
        event = Event(self.clock.next(), type, session_id, data)  # type: ignore[arg-type]
        self._persist(_to_record(event))
        if type != "status":
            self.events.publish(event)
        return event

    def announce(self, type: str, session_id: str, **data: Any) -> None:
        """A lifecycle event on the global stream (persisted)."""
        event = Event(self.clock.next(), type, session_id, data)  # type: ignore[arg-type]
        self._persist(_to_record(event, server=True), len(event.json()))
        self.events.publish(event)
        self._observe(event)

    def _on_event(self, event: Event) -> None:
        self._observe(event)
        if not self._registered(event.session_id):
            return  # starting, or warm: nothing of it is kept until it is registered
        if event.type != "text_delta":
            self._persist(_to_record(event), len(event.json()))  # the JSON its log made (or will reuse)
        elif self.deltas is not None:
            self.deltas(event, self._last_persisted)
        if event.type != "status":
            self.events.publish(event)

    def _persist(self, record: EventRecord, size: int | None = None) -> None:
        self._registry.append(record, size)
        self._last_persisted = record.id
        self._own.add(record.id)
        self._own_order.append(record.id)
        if len(self._own_order) > OWN_IDS_KEPT:
            self._own.discard(self._own_order.popleft())

    def relay(self, record: EventRecord, session_log: EventLog | None) -> None:
        """An event another node persisted: onto the global stream (``status`` excepted) and
        ``session_log`` (a session loaded here but not live), when newer than what each holds;
        this node's own events (still remembered) are skipped. The clock moves past its id."""
        if record.id in self._own:
            return
        event = _to_event(record)
        self.clock.last = max(self.clock.last, event.id)
        if record.server or record.type != "status":
            self.events.relay(event)
        if session_log is not None and not record.server:
            session_log.relay(event)

    def relay_delta(self, event: Event, session_log: EventLog | None) -> None:
        """A text delta another node sent (never stored): onto the global stream and ``session_log``
        when newer than what each holds (see ``deltas.py``). The clock moves past its id."""
        self.clock.last = max(self.clock.last, event.id)
        self.events.relay(event)
        if session_log is not None:
            session_log.relay(event)

    def _observe(self, event: Event) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except Exception:  # an observer must never break a session
                log.exception("event observer failed")

    async def _global_history(self, after: int) -> list[Event]:
        await self._registry.flush()
        found = await self._registry.events(session_id=None, after=after)
        return [_to_event(r) for r in found if r.server or r.type != "status"]
