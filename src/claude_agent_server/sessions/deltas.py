"""Text deltas across nodes: the owner's ``text_delta`` events, live on every node's streams.

``text_delta`` events are never stored, so the relay of persisted events (``relay.py``) cannot
carry them. On PostgreSQL the owner node sends them with ``NOTIFY`` on their own channel
(:class:`DeltaOutbox`, see ``store/feed.py``); every other node receives them
(:class:`DeltaInbox`) and puts them on its streams, live only (never replayed).

**Order.** Ids within a stream only increase, and a delta must never make a stream skip a
persisted event (a stream drops what is older than its newest event). So each delta names
``after``: the id of the last event its node had handed to the registry before it. A receiving
node holds a delta until it has relayed that event (then every persisted event of the owner
before the delta is on its streams), and a stream takes it only when it is newer than that
stream's newest event; otherwise it is skipped. A delta is therefore late (a notification and
a read of the events table later than on the owner) or, when a newer event reached the stream
first, skipped, never out of order. A delta whose ``after`` is not relayed within
:data:`HOLD_SECONDS` is skipped (the next ``assistant_message`` carries the text in full).

**Size.** A ``NOTIFY`` payload is at most 8000 bytes: deltas are sent in notifications of at
most :data:`PAYLOAD_BYTES` (a JSON list); a delta whose text is longer than
:data:`PIECE_CHARS` characters is sent in pieces of that length, in consecutive notifications,
and joined again by the receiver (a delta with a piece missing is skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from .events import Event

__all__ = ["HOLD_SECONDS", "PAYLOAD_BYTES", "PIECE_CHARS", "DeltaInbox", "DeltaOutbox", "encode"]

log = logging.getLogger(__name__)

PAYLOAD_BYTES = 7000
"""Bytes of one notification's payload at most (PostgreSQL refuses more than 8000)."""
PIECE_CHARS = 1000
"""Characters of a delta's text per piece (6 bytes each at worst once JSON-escaped)."""
HOLD_SECONDS = 2.0
"""Seconds a received delta waits for the persisted event it follows; then it is skipped."""
MAX_HELD = 10_000
"""Deltas held at most (the oldest are skipped first)."""


def encode(node_id: str, items: list[tuple[Event, int]]) -> list[str]:
    """Notification payloads for ``(delta, after)`` pairs, in order, each under :data:`PAYLOAD_BYTES`."""
    payloads: list[str] = []
    batch: list[str] = []
    size = 2
    for event, after in items:
        text = str(event.data.get("text", ""))
        pieces = [text[i:i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)] or [""]
        for index, piece in enumerate(pieces):
            item = {"node": node_id, "id": event.id, "after": after, "session_id": event.session_id, "created_at": event.created_at,
                    "text": piece, "parent_tool_use_id": event.data.get("parent_tool_use_id"), "piece": index, "pieces": len(pieces)}
            encoded = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
            length = len(encoded.encode()) + 1
            if batch and size + length > PAYLOAD_BYTES:
                payloads.append("[" + ",".join(batch) + "]")
                batch, size = [], 2
            batch.append(encoded)
            size += length
    if batch:
        payloads.append("[" + ",".join(batch) + "]")
    return payloads


class DeltaOutbox:
    """Sends this node's text deltas to the others, in order, as fast as the database takes them.

    Args:
        node_id: This node's id (in every item, so a node skips its own).
        send: ``await send(payloads)`` notifies them (the feed's connection), in order.
    """

    def __init__(self, node_id: str, send: Callable[[list[str]], Awaitable[None]]) -> None:
        self._node_id = node_id
        self._send = send
        self._pending: list[tuple[Event, int]] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="delta-outbox")

    def publish(self, event: Event, after: int) -> None:
        """Queue a delta that follows the persisted event ``after`` (a synchronous call)."""
        self._pending.append((event, after))
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            items, self._pending = self._pending, []  # what piled up while the last send ran: one round trip
            try:
                await self._send(encode(self._node_id, items))
            except Exception as exc:  # live only: a delta lost here is in the next assistant_message
                log.debug("sending %d text deltas to the other nodes failed: %s", len(items), exc)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class DeltaInbox:
    """Other nodes' deltas, held until the persisted event each follows has been relayed here.

    Args:
        node_id: This node's id (its own deltas are ignored).
    """

    def __init__(self, node_id: str) -> None:
        self._node_id = node_id
        self._held: deque[tuple[float, int, Event]] = deque()
        self._pieces: dict[tuple[str, int], list[str]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def received(self, payload: str) -> None:
        """Take one notification's payload (as :func:`encode` made it; anything else is ignored)."""
        try:
            items = json.loads(payload)
        except ValueError:
            return
        now = time.monotonic()
        for item in items if isinstance(items, list) else []:
            try:
                event = self._join(item)
            except (KeyError, TypeError, ValueError):
                continue
            if event is not None:
                self._held.append((now, int(item["after"]), event))
                if len(self._held) > MAX_HELD:
                    self._held.popleft()

    def ready(self, relayed: Callable[[int], bool], before: int | None = None) -> list[Event]:
        """The held deltas whose ``after`` has been relayed (``relayed(id)``), oldest first, up to the
        first with an id from ``before`` on (the relay puts them between the rows it reads, in id
        order); those held longer than :data:`HOLD_SECONDS` are dropped. A delta waits behind an
        older one still held."""
        out: list[Event] = []
        expired = time.monotonic() - HOLD_SECONDS
        while self._held:
            since, after, event = self._held[0]
            if before is not None and event.id >= before:
                break
            if relayed(after):
                out.append(event)
            elif since >= expired:
                break
            self._held.popleft()
        return out

    def _join(self, item: dict[str, Any]) -> Event | None:
        node = str(item["node"])
        if node == self._node_id:
            return None
        key, piece, pieces = (node, int(item["id"])), int(item["piece"]), int(item["pieces"])
        text = str(item["text"])
        if pieces > 1:
            if piece == 0 and len(self._pieces) >= MAX_HELD:
                self._pieces.clear()  # pieces whose rest never came
            parts = self._pieces.setdefault(key, []) if piece == 0 else self._pieces.get(key)
            if parts is None or len(parts) != piece:
                self._pieces.pop(key, None)  # a piece went missing: the delta is skipped
                return None
            parts.append(text)
            if piece + 1 < pieces:
                return None
            text = "".join(self._pieces.pop(key))
        data = {"text": text, "parent_tool_use_id": item.get("parent_tool_use_id")}
        return Event(int(item["id"]), "text_delta", str(item["session_id"]), data, str(item["created_at"]))
