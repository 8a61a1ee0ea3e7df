"""What a CLI that died without a word left, recorded by whoever takes its session over: its
node died (reason ``node_lost``, see :mod:`.cluster`) or its server was killed and restarted
(``server_restart``, see :mod:`.upkeep`).

A turn that was running ends with an ``error`` event. The permission requests its CLI waited
on are resolved as denied, with the same reason, and their registry rows forgotten: no one
can answer them any more. A *parked* request (its row has ``parked_at``: an earlier CLI
stopped without answering it, see :mod:`.parking`) stays parked, listed and answerable: the
session's next CLI applies its answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..store import Registry, SessionRecord
from .events import Event, EventLog
from .journal import EventJournal

__all__ = ["LIVE_STATUSES", "Recorder", "end_lost_turn", "pending_permissions", "recorder"]

LIVE_STATUSES = ("running", "waiting_permission")
"""Statuses of a session in a turn."""

Recorder = Callable[..., Event]
"""``record(session_id, type, **data)``: persist and publish an event of a session (see :func:`recorder`)."""


def recorder(journal: EventJournal, loaded: Callable[[str], EventLog | None]) -> Recorder:
    """Records through ``journal`` (the registry and the global stream) and, when the session is
    loaded on this node without a CLI (``loaded(session_id)``), onto its own log too, so that
    its streams here see the events at once."""

    def record(session_id: str, type: str, **data: object) -> Event:
        event = journal.record(session_id, type, **data)
        if (events := loaded(session_id)) is not None:
            events.relay(event)  # persisted already: the log's sink is skipped
        return event

    return record


async def end_lost_turn(
    registry: Registry, record: Recorder, session: SessionRecord, reason: str, message: str, permission_timeout: float,
) -> bool:
    """End the turn ``session`` (its record as its dead CLI left it) was running, if any.

    Args:
        registry: The registry (its writer is flushed before the event log is read).
        record: Where the events go.
        session: The record; nothing happens unless its ``state`` is ``live`` and its
            ``status`` one of :data:`LIVE_STATUSES`.
        reason: The ``reason`` of the events (``node_lost``, ``server_restart``).
        message: Their ``message``.
        permission_timeout: Seconds a request may wait (bounds the search of the event log; 0: unbounded).

    Returns:
        Whether a turn was ended.

    Raises:
        StoreError: The registry cannot be read or written now.
    """
    if session.state != "live" or session.status not in LIVE_STATUSES:
        return False
    sid = session.session_id
    parked = {p.request_id for p in await registry.parked.of_session(sid, parked_only=True)}
    await registry.parked.forget_waiting(sid)
    for request_id, tool_use_id in await pending_permissions(registry, sid, permission_timeout):
        if request_id not in parked:
            record(sid, "permission_resolved", request_id=request_id, tool_use_id=tool_use_id, allowed=False,
                   applied_suggestions=False, reason=reason, message=message)
    record(sid, "error", message=message, reason=reason)
    return True


async def pending_permissions(registry: Registry, session_id: str, permission_timeout: float) -> list[tuple[str, str | None]]:
    """``(request_id, tool_use_id)`` of the session's persisted ``permission_request`` events
    with no ``permission_resolved`` after them, oldest first (only those younger than
    ``permission_timeout`` plus an hour, when it is not 0)."""
    after = int((time.time() - permission_timeout - 3600) * 1_000_000) if permission_timeout else 0
    await registry.flush()
    pending: dict[str, str | None] = {}
    for event in await registry.events(session_id=session_id, after=after):
        if event.type == "permission_request":
            pending[event.data.get("request_id", "")] = event.data.get("tool_use_id")
        elif event.type == "permission_resolved":
            pending.pop(event.data.get("request_id", ""), None)
    return [(rid, tid) for rid, tid in pending.items() if rid]
