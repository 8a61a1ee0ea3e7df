"""The webhook outbox: deliveries waiting in the registry until some live node has made them.

:meth:`WebhookOutbox.add` queues rows without waiting (a turn's observer calls it): a
:class:`~.write_queue.WriteQueue` inserts them on the registry's write lane, skipping a
delivery already there (``message_id`` and ``url`` are unique), and keeps at most ``cap``
rows: beyond, the oldest are deleted in the same transaction, and counted as dropped.
Any node then claims due rows (:meth:`~WebhookOutbox.claim`) in one statement (a conditional
``UPDATE ... RETURNING``; on PostgreSQL over ``SELECT ... FOR UPDATE SKIP LOCKED``, so two
nodes never claim one row), delivers them, and :meth:`~WebhookOutbox.done` deletes each. A
claim lasts ``claim_seconds``: one whose node died expires, and another node claims the row
again (that delivery may then arrive twice; under normal operation, once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection

from .dialects import insert
from .records import utcnow
from .tables import webhook_outbox as outbox
from .write_queue import WriteQueue

__all__ = ["Delivery", "WebhookOutbox"]

Run = Callable[..., Awaitable[Any]]

CAP = 1000
"""Deliveries kept waiting at most (the oldest are dropped beyond)."""
BUFFER_BYTES = 8 * 1024 * 1024
"""Bytes of new rows kept in memory while they wait to be inserted."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One waiting delivery: POST ``body`` (JSON text, sent byte for byte) to ``url`` as ``message_id``."""

    id: int
    url: str
    message_id: str
    body: str


class WebhookOutbox:
    """The ``webhook_outbox`` table.

    Args:
        run: The registry's transaction runner (``run(work, write=..., single=...)``).
        write: Runs a write transaction whatever the registry's state (the queue's writes).
        cap: Rows kept at most (see the module docstring).
    """

    def __init__(self, run: Run, write: Run, cap: int = CAP) -> None:
        self._run = run
        self._write = write
        self.cap = cap
        self.dropped = 0
        """Deliveries dropped since open: the oldest beyond ``cap``, or beyond the memory buffer during an outage."""
        self.on_written: Callable[[int], None] = lambda inserted: None
        """Called after each insert with the number of rows it added (e.g. to wake a delivery loop)."""
        self._queue: WriteQueue[dict[str, Any]] = WriteQueue(
            "webhooks", self._insert, describe=lambda row: str(row["message_id"]), unit="deliveries", max_bytes=BUFFER_BYTES,
        )

    def add(self, url: str, message_id: str, body: str) -> None:
        """Queue one delivery (never waits; see the module docstring)."""
        row = {"url": url, "message_id": message_id, "body": body, "created_at": utcnow(), "claimed_by": None, "claimed_until": None}
        if not self._queue.put_nowait(row, size=len(body) + len(url) + 100):
            self.dropped += 1

    async def flush(self) -> None:
        """Wait until the deliveries added before this call are in the table.

        Raises:
            RegistryUnavailable: The database cannot be reached now (they stay queued).
        """
        await self._queue.flush()

    async def close(self) -> None:
        """Insert what is queued (trying for a few seconds), then stop the queue's task."""
        await self._queue.close()

    async def due(self) -> bool:
        """Whether a delivery waits that no live claim holds (a read)."""
        free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < utcnow())
        return await self._run(lambda conn: conn.scalar(select(outbox.c.id).where(free).limit(1)), single=True) is not None

    async def claim(self, node_id: str, limit: int, claim_seconds: float) -> list[Delivery]:
        """Claim up to ``limit`` deliveries no live claim holds, oldest first, for ``node_id``
        until ``claim_seconds`` from now, in one statement (see the module docstring)."""
        if not await self.due():
            return []  # nothing to claim: no write transaction
        now = utcnow()
        free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
        until = now + timedelta(seconds=claim_seconds)

        def work(conn: Connection) -> list[Delivery]:
            due = select(outbox.c.id).where(free).order_by(outbox.c.id).limit(limit)
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = conn.execute(
                update(outbox).where(outbox.c.id.in_(due.scalar_subquery()))
                .values(claimed_by=node_id, claimed_until=until)
                .returning(outbox.c.id, outbox.c.url, outbox.c.message_id, outbox.c.body)
            )
            return sorted((Delivery(*row) for row in claimed), key=lambda d: d.id)

        return await self._run(work, write=True)

    async def done(self, delivery_id: int, node_id: str) -> None:
        """Forget a delivery ``node_id`` made (or gave up on); nothing happens when its claim went to another node."""
        query = delete(outbox).where(outbox.c.id == delivery_id, outbox.c.claimed_by == node_id)
        await self._run(lambda conn: conn.execute(query), write=True)

    async def unclaim(self, node_id: str) -> None:
        """Give back every claim of ``node_id`` (it stops: another node, or its next run, delivers them)."""
        query = update(outbox).where(outbox.c.claimed_by == node_id).values(claimed_by=None, claimed_until=None)
        await self._run(lambda conn: conn.execute(query), write=True)

    async def waiting(self) -> int:
        """Deliveries in the table (claimed or not)."""
        return int(await self._run(lambda conn: conn.scalar(select(func.count()).select_from(outbox)), single=True))

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        def work(conn: Connection) -> tuple[int, int]:
            inserted = len(conn.execute(insert(conn.dialect, outbox).on_conflict_do_nothing().returning(outbox.c.id), rows).all())
            over = int(conn.scalar(select(func.count()).select_from(outbox))) - self.cap
            dropped = 0
            if over > 0:
                oldest = select(outbox.c.id).order_by(outbox.c.id).limit(over).scalar_subquery()
                dropped = conn.execute(delete(outbox).where(outbox.c.id.in_(oldest))).rowcount
            return inserted, dropped

        inserted, dropped = await self._write(work)
        self.dropped += dropped
        if inserted:
            self.on_written(inserted)
