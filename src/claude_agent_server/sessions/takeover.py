"""What a CLI that died without a word left, recorded by whoever takes its session over: its
node died (reason ``node_lost``, see :mod:`.cluster`) or its server was killed and restarted
(``server_restart``, see :mod:`.upkeep`).

A turn that was running ends with an ``error`` event. The permission requests its CLI waited
on are resolved as denied, with the same reason, and their registry rows forgotten: no one
can answer them any more. A *parked* request (its row has ``parked_at``: an earlier CLI
stopped without answering it, see :mod:`.parking`) stays parked, listed and answerable: the
session's next CLI applies its answer.

Whether a turn was running is read from the session's event log, the evidence its CLI left:
a ``turn_started`` or a ``permission_request`` after the last turn end (``result``, ``error``).
The record's status says so too while it is ``live`` in a turn, but it is a snapshot written in
the background: the dead node may not have written the last one, and a node that loaded the
session meanwhile may have written it ``hibernated``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..store import Registry, SessionRecord
from .events import TURN_END, Event, EventLog
from .journal import EventJournal

__all__ = ["LIVE_STATUSES", "LostTurn", "Recorder", "end_lost_turn", "lost_turn", "recorder"]

LIVE_STATUSES = ("running", "waiting_permission")
"""Statuses of a session in a turn."""
PAGE = 10_000
"""Events read from the registry per query."""

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


@dataclass(slots=True)
class LostTurn:
    """What a session's event log says of its last turn (see :func:`lost_turn`).

    Attributes:
        running: A ``turn_started`` or ``permission_request`` follows the last turn end.
        pending: ``(request_id, tool_use_id)`` of the ``permission_request`` events with no
            ``permission_resolved`` after them, oldest first.
    """

    running: bool = False
    pending: list[tuple[str, str | None]] = field(default_factory=list)


async def end_lost_turn(
    registry: Registry, record: Recorder, session: SessionRecord, reason: str, message: str, permission_timeout: float,
) -> bool:
    """End the turn ``session``'s dead CLI was running, if any.

    Args:
        registry: The registry (its writer is flushed before the event log is read).
        record: Where the events go.
        session: The record as the dead CLI's server left it, or as it is now.
        reason: The ``reason`` of the events (``node_lost``, ``server_restart``).
        message: Their ``message``.
        permission_timeout: Seconds a request may wait (bounds the search of the event log; 0: unbounded).

    Returns:
        Whether a turn was ended: the event log shows one running (see :class:`LostTurn`), or
        the record is ``live`` with a status in :data:`LIVE_STATUSES`; never for a ``closed`` record.

    Raises:
        StoreError: The registry cannot be read or written now.
    """
    sid = session.session_id
    if session.state == "closed":
        return False  # closed for good: its turn ended with it, or never will
    turn = await lost_turn(registry, sid, permission_timeout)
    if not turn.running and (session.state != "live" or session.status not in LIVE_STATUSES):
        return False
    parked = {p.request_id for p in await registry.parked.of_session(sid, parked_only=True)}
    await registry.parked.forget_waiting(sid)
    for request_id, tool_use_id in turn.pending:
        if request_id not in parked:
            record(sid, "permission_resolved", request_id=request_id, tool_use_id=tool_use_id, allowed=False,
                   applied_suggestions=False, reason=reason, message=message)
    record(sid, "error", message=message, reason=reason)
    return True


async def lost_turn(registry: Registry, session_id: str, permission_timeout: float, *, since: float | None = None) -> LostTurn:
    """The session's last turn as its persisted events tell it (only events younger than
    ``permission_timeout`` plus an hour, when it is not 0; with ``since``, only events from
    that Unix time in seconds on); the registry's writer is flushed first."""
    if since is None and permission_timeout:
        since = time.time() - permission_timeout - 3600
    after = int(since * 1_000_000) if since is not None else 0  # event ids are microseconds (see EventClock)
    await registry.flush()
    turn = LostTurn()
    pending: dict[str, str | None] = {}
    while events := await registry.events(session_id=session_id, after=after, limit=PAGE):
        for event in events:
            if event.type in ("turn_started", "permission_request"):
                turn.running = True
            elif event.type in TURN_END:
                turn.running = False
            if event.type == "permission_request":
                pending[event.data.get("request_id", "")] = event.data.get("tool_use_id")
            elif event.type == "permission_resolved":
                pending.pop(event.data.get("request_id", ""), None)
        if len(events) < PAGE:
            break
        after = events[-1].id
    turn.pending = [(rid, tid) for rid, tid in pending.items() if rid]
    return turn

