"""A turn as seen by a caller: its events from ``turn_started`` to ``result``/``error``,
and the blocking reply assembled from them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from ..store import StoreError
from .events import TURN_END, Event
from .session import Session

log = logging.getLogger(__name__)


async def turn_events(session: Session, started: Event) -> AsyncIterator[Event]:
    """The session's events from ``started`` (included) to the end of the turn.

    Events of other types interleaved in the session (status, permissions) are
    included; the iterator ends after the turn's ``result`` or ``error`` event,
    or when the session closes. The ending event is yielded only once the turn's
    events (and the session's totals) are durable — in the registry, or in its spill
    file while the database is away — so an acknowledged turn survives a crash of the
    server (one flush, one commit, per turn). If they cannot be made durable within
    the registry's flush timeout the ending event is yielded anyway (and logged).
    """
    async for event in session.events.subscribe(after=started.id - 1):
        if event.type in TURN_END:
            try:
                await session.events.wait_durable()
            except (StoreError, RuntimeError) as exc:
                log.warning("session %s: the end of the turn is not durable yet: %s", session.id, exc)
            yield event
            return
        yield event


def build_reply(session_id: str, events: Iterable[Event]) -> dict[str, Any]:
    """The blocking reply: ``{session_id, messages, result, cost_usd, num_turns,
    duration_ms, usage, is_error, stop_reason, ...}`` built from one turn's events."""
    messages: list[dict[str, Any]] = []
    end: dict[str, Any] = {}
    for event in events:
        if event.type == "assistant_message" and event.data.get("parent_tool_use_id") is None:
            messages.extend(event.data["content"])
        elif event.type == "tool_result" and event.data.get("parent_tool_use_id") is None:
            item = {k: event.data[k] for k in ("tool_use_id", "content", "is_error")}
            messages.append({"type": "tool_result", **item})
        elif event.type == "result":
            end = dict(event.data)
        elif event.type == "error":
            end = {"result": None, "is_error": True, "error": event.data.get("message")}
    reply = {
        "session_id": session_id,
        "messages": messages,
        "result": None,
        "cost_usd": None,
        "num_turns": 0,
        "duration_ms": 0,
        "usage": None,
        "is_error": False,
        "stop_reason": None,
    }
    reply.update(end)
    return reply
