"""The audit log: one row per authenticated change or failed sign-in, and the spend queries
of the spending limits (per user, from the ``result`` events the registry records).

A row holds who (user, key id or token subject), from where (client address), what (action,
method, path), on which session, and the outcome (status code): never a key, a token or a
message's text (the caller passes none; the path is the route's, whose only variable parts
are ids).

Rows are queued, not awaited: :meth:`AuditLog.record` puts the row (its time taken then) in a
:class:`~.write_queue.WriteQueue` whose task inserts what waits in one transaction, in order.
A database outage loses no row while what waits fits in :data:`BUFFER_BYTES` (8 MiB, some
20,000 rows): the insert is retried with backoff until the database answers. Beyond it,
during an outage, newer rows are dropped (logged once per outage); at shutdown the queue
keeps trying for a few seconds (:data:`~.write_queue.CLOSE_TIMEOUT`), then logs what it could
not write. Each row is written once: an insert skips the rows the table already holds with the
same time (microseconds) and fields, so a retry after a commit whose acknowledgement was lost
adds nothing. :meth:`AuditLog.entries` first waits for the rows queued before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from .records import utcnow
from .tables import audit, events, sessions
from .write_queue import CLOSE_TIMEOUT, WriteQueue

Run = Callable[..., Awaitable[Any]]

BUFFER_BYTES = 8 * 1024 * 1024
"""Bytes of audit rows kept in memory while they wait for the database."""
FIELDS = ("at", "user_name", "key_id", "client", "action", "method", "path", "session_id", "status")
"""What makes a row the same row (its ``id`` is the database's)."""
ROW_BYTES = 400
"""An audit row's size as the buffer counts it (its text fields are capped, see :meth:`AuditLog.record`)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    user_name: str | None
    key_id: str | None
    client: str | None
    action: str
    method: str
    path: str
    session_id: str | None
    status: int


class AuditLog:
    """The ``audit`` table and the per-user spend, on the registry's database.

    Args:
        run: Runs a read (``run(work)``), refused while the registry is unavailable.
        write: Runs a write transaction (``write(work)``), tried whatever the registry's state.
        buffer_bytes: Bytes of rows queued at most (see the module docstring).
        retry_delay: Seconds before the first retry during an outage (doubling up to 5 s).
    """

    def __init__(self, run: Run, write: Run, *, buffer_bytes: int = BUFFER_BYTES, retry_delay: float = 0.2) -> None:
        self._run = run
        self._write_rows = write
        self._queue: WriteQueue[dict[str, Any]] = WriteQueue(
            "audit", self._insert, describe=lambda row: str(row["action"]), unit="rows",
            max_bytes=buffer_bytes, retry_delay=retry_delay,
        )

    @property
    def dropped(self) -> int:
        """Rows never written (beyond the buffer during an outage, or left at :meth:`close`; logged)."""
        return self._queue.dropped

    async def record(
        self, *, action: str, method: str, path: str, status: int, user_name: str | None, key_id: str | None,
        client: str | None, session_id: str | None,
    ) -> None:
        """Queue a row (its time is now) and return; see the module docstring for when it is written."""
        values = {
            "at": utcnow(), "user_name": user_name, "key_id": key_id, "client": (client or "")[:64] or None,
            "action": action[:64], "method": method[:8], "path": path[:512], "session_id": session_id, "status": status,
        }
        await self._queue.put(values, size=ROW_BYTES)

    async def flush(self) -> None:
        """Wait until the rows recorded before this call are written.

        Raises:
            RegistryUnavailable: The database cannot be reached now (the rows stay queued).
        """
        await self._queue.flush()

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Write what is queued (trying for up to ``timeout`` seconds), then stop the task."""
        await self._queue.close(timeout)

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` in one transaction, but those already there (see the module docstring)."""

        def work(conn: Connection) -> None:
            stamps = [row["at"] for row in rows]
            there = conn.execute(select(*(audit.c[name] for name in FIELDS)).where(audit.c.at.between(min(stamps), max(stamps))))
            present = {tuple(row) for row in there}
            new = [row for row in rows if tuple(row[name] for name in FIELDS) not in present]
            if new:
                conn.execute(insert(audit), new)

        await self._write_rows(work)

    async def entries(
        self, *, user: str | None = None, session_id: str | None = None, action: str | None = None,
        since: datetime | None = None, until: datetime | None = None, limit: int = 100, before: int | None = None,
    ) -> list[AuditEntry]:
        """Rows matching every filter given, newest first; ``before``: only ids below it (the next page).

        Raises:
            RegistryUnavailable: The database cannot be reached (or rows recorded before wait for it).
        """
        await self.flush()
        query = select(audit)
        if user is not None:
            query = query.where(audit.c.user_name == user)
        if session_id is not None:
            query = query.where(audit.c.session_id == session_id)
        if action is not None:
            query = query.where(audit.c.action == action)
        if since is not None:
            query = query.where(audit.c.at >= since)
        if until is not None:
            query = query.where(audit.c.at < until)
        if before is not None:
            query = query.where(audit.c.id < before)
        query = query.order_by(audit.c.id.desc()).limit(limit)
        return [AuditEntry(**row._mapping) for row in await self._run(lambda conn: conn.execute(query).all())]

    # -- spend -----------------------------------------------------------------

    def _turns(self, user: str, since: datetime) -> Any:
        return (
            select(events.c.session_id, events.c.created_at, events.c.data["turn_cost_usd"].as_float().label("cost"))
            .join(sessions, sessions.c.session_id == events.c.session_id)
            .where(
                sessions.c.owner == user, events.c.type == "result", events.c.server.is_(False),
                events.c.created_at >= since.astimezone(UTC).isoformat(),
            )
            .subquery()
        )

    async def spent_since(self, user: str, since: datetime) -> float:
        """USD ``user``'s sessions spent on turns that ended at or after ``since``."""
        turns = self._turns(user, since)
        query = select(func.coalesce(func.sum(turns.c.cost), 0.0))
        return float(await self._run(lambda conn: conn.scalar(query)) or 0.0)

    async def spend_by_day(self, user: str, since: datetime) -> list[tuple[str, float]]:
        turns = self._turns(user, since)
        day = func.substr(turns.c.created_at, 1, 10)
        query = select(day, func.coalesce(func.sum(turns.c.cost), 0.0)).group_by(day).order_by(day)
        return [(str(d), float(c or 0.0)) for d, c in await self._run(lambda conn: conn.execute(query).all())]

    async def spend_by_session(self, user: str, since: datetime) -> list[tuple[str, float]]:
        turns = self._turns(user, since)
        query = select(turns.c.session_id, func.coalesce(func.sum(turns.c.cost), 0.0)).group_by(turns.c.session_id)
        rows = await self._run(lambda conn: conn.execute(query).all())
        return sorted(((str(s), float(c or 0.0)) for s, c in rows), key=lambda r: -r[1])

    async def spend_by_user(self, since: datetime) -> dict[str, float]:
        """USD per owner since ``since`` (sessions without an owner left out)."""
        cost = events.c.data["turn_cost_usd"].as_float()
        query = (
            select(sessions.c.owner, func.coalesce(func.sum(cost), 0.0))
            .join(sessions, sessions.c.session_id == events.c.session_id)
            .where(sessions.c.owner.is_not(None), events.c.type == "result", events.c.server.is_(False),
                   events.c.created_at >= since.astimezone(UTC).isoformat())
            .group_by(sessions.c.owner)
        )
        return {str(o): float(c or 0.0) for o, c in await self._run(lambda conn: conn.execute(query).all())}


