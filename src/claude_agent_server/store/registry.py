"""``SqlRegistry``: the :class:`~.interface.Registry` over SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar, get_args

from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from . import migrate
from .dialects import upsert
from .engine import make_engine
from .errors import is_unreachable
from .lanes import Lanes, Work
from .records import EventRecord, SessionRecord, SessionState, utcnow
from .spill import SpillFile
from .tables import aliases, events, sessions
from .parked import ParkedStore
from .responses import ResponseStore
from .cluster import ClusterStore
from .feed import EventFeed
from .transcripts import SqlTranscriptStore
from .users import UserStore
from .audit import AuditLog
from .outbox import WebhookOutbox
from .write_behind import WriteBehindStore
from .commit import committer
from .health import WriterHealth
from .writer import Writer

T = TypeVar("T")
STATES: tuple[SessionState, ...] = get_args(SessionState)
CATCH_UP_TIMEOUT = 300.0
"""Seconds :meth:`SqlRegistry.open` waits for rows a previous run spilled to be written."""





class SqlRegistry:
    """Session records and the event log in one database.

    Open with :meth:`open` and always :meth:`close`. Reads and :meth:`put` are
    awaited; :meth:`append` and :meth:`update` enqueue for the single
    :class:`~.writer.Writer` and return at once; it keeps them through a database
    outage (see :mod:`.writer`). Every awaited call raises
    :class:`~.errors.RegistryUnavailable` while the database cannot be reached or
    the writer is still writing what it spilled meanwhile.
    """

    def __init__(self, engine: AsyncEngine, lanes: Lanes, writer: Writer) -> None:
        self._engine = engine
        self._lanes = lanes
        self._writer = writer
        self._transcripts = WriteBehindStore(SqlTranscriptStore(engine, lanes.run))
        self.responses = ResponseStore(self._run)
        """The Responses API's stored responses (:mod:`.responses`)."""
        self.parked = ParkedStore(self._run)
        """Permission requests that wait for a person across restarts (:mod:`.parked`)."""
        self.cluster = ClusterStore(self._run, shared=engine.url.get_backend_name() != "sqlite")
        """Nodes and session leases (see :mod:`.cluster`)."""
        self.users = UserStore(self._run)
        """Users and their API keys (:mod:`.users`)."""
        self.audit = AuditLog(self._run, partial(lanes.run, write=True))
        """The audit log and per-user spend (:mod:`.audit`)."""
        self.webhooks = WebhookOutbox(self._run, partial(lanes.run, write=True))  # webhook deliveries (:mod:`.outbox`)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        buffer_bytes: int = 64 * 1024 * 1024,
        spill_path: Path | None = None,
        max_retry_delay: float = 5.0,
        flush_timeout: float = 30.0,
        node_id: str | None = None,
    ) -> SqlRegistry:
        """Connect, migrate the schema to the newest revision, start the writer and let it
        write what a previous run left in the spill file.

        Args:
            url: A SQLAlchemy URL, ``sqlite+aiosqlite:///<path>`` or
                ``postgresql+asyncpg://...`` (see :func:`~.engine.default_database_url`).
            batch_size: Events per write transaction, at most.
            flush_interval: Seconds a queued item may wait for its batch.
            buffer_bytes: Bytes of events and records waiting in memory; beyond, they go to
                the spill file (without one, the oldest events are dropped).
            spill_path: The spill file (see :func:`~.spill.spill_path`); None: none.
            max_retry_delay: Seconds between retries of a failed write, at most.
            flush_timeout: Seconds :meth:`flush` waits at most.
            node_id: This server's node id: on PostgreSQL each batch of events it writes is
                announced to the other nodes (``NOTIFY``, see :mod:`.feed`).

        Raises:
            sqlalchemy.exc.DBAPIError: The database cannot be reached or migrated.
            RegistryUnavailable: What a previous run spilled could not be written within
                ``CATCH_UP_TIMEOUT`` seconds.
        """
        engine = make_engine(url)
        try:
            await migrate.upgrade(engine)
            spill = await asyncio.to_thread(SpillFile, spill_path) if spill_path is not None else None
        except BaseException:
            await engine.dispose()
            raise
        lanes = Lanes(engine)
        writer = Writer(
            committer(lanes, node_id), batch_size=batch_size, flush_interval=flush_interval, buffer_bytes=buffer_bytes,
            spill=spill, max_retry_delay=max_retry_delay, flush_timeout=flush_timeout,
        )
        registry = cls(engine, lanes, writer)
        try:
            await writer.caught_up(CATCH_UP_TIMEOUT)
        except BaseException:
            await registry.close()
            raise
        return registry

    async def close(self) -> None:
        """Make what is queued durable (events and records written, or spilled while the database is
        away: the next registry opened with the same spill file writes them; transcripts and audit
        rows written, trying for a few seconds through an outage), stop the writers, dispose of the engine."""
        try:
            await asyncio.gather(self._transcripts.close(), self.audit.close(), self.webhooks.close())
            await self._writer.close()
        finally:
            await self._lanes.close()
            await self._engine.dispose()

    async def _run(self, work: Work[T], *, write: bool = False, single: bool = False) -> T:
        """Run ``work`` in one transaction (``BEGIN IMMEDIATE`` when ``write``) once the registry is available.

        Raises:
            RegistryUnavailable: It is not, or the database cannot be reached now.
        """
        self._writer.check()
        try:
            return await self._lanes.run(work, write=write, single=single)
        except Exception as exc:
            if is_unreachable(exc):
                raise self._writer.unreachable(exc) from exc
            raise

    async def listen(self, on_notify: Callable[[str], None], on_delta: Callable[[str], None] | None = None) -> EventFeed | None:
        """On PostgreSQL: ``on_notify(node_id)`` whenever a node commits events, ``on_delta(payload)`` for
        other nodes' text deltas (see :mod:`.feed`); :meth:`EventFeed.close` it. None on SQLite (one node)."""
        if self._engine.url.get_backend_name() != "postgresql":
            return None
        return await EventFeed.start(self._engine.url, on_notify, on_delta)

    @property
    def transcripts(self) -> WriteBehindStore:
        """The SDK's ``SessionStore`` on this registry's engine: a :class:`~.transcripts.SqlTranscriptStore`
        behind a :class:`~.write_behind.WriteBehindStore` (``append`` queues; ``flush`` waits for the queue).

        :meth:`close` writes what is queued; the store is unusable after it.
        """
        return self._transcripts

    # -- sessions ------------------------------------------------------------

    async def get(self, session_id: str) -> SessionRecord | None:
        """The record with this id (any state), or None."""
        query = select(sessions).where(sessions.c.session_id == session_id)
        row = await self._run(lambda conn: conn.execute(query).first())
        return None if row is None else SessionRecord(**row._mapping)

    async def put(self, record: SessionRecord) -> None:
        """Insert or replace a record now, after every update queued before the call.

        Raises:
            sqlalchemy.exc.StatementError: A datetime of the record is naive.
            sqlalchemy.exc.IntegrityError: Another record has its ``agentcore_session_id``.
        """
        await self._writer.flush()
        row = asdict(record)
        await self._run(lambda conn: conn.execute(upsert(conn.dialect, sessions, ["session_id"]), row), write=True)

    def update(self, record: SessionRecord) -> None:
        """Enqueue the record's current values (the newest snapshot of a session wins).

        Raises:
            ValueError: A datetime of the record is naive.
        """
        self._writer.update(record)

    async def list(
        self,
        *,
        states: Sequence[SessionState] = ("live", "hibernated"),
        status: str | None = None,
        cwd: str | None = None,
        within: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
        owner: str | None = None,
    ) -> list[SessionRecord]:
        """Records in ``states`` (and with ``status``, and ``spec["cwd"]``, if given; with a
        ``spec["cwd"]`` that is one of the directories ``within`` or below one, if given),
        newest ``last_activity`` first; ``owner``: only that user's, if given."""
        query = select(sessions).where(sessions.c.state.in_(states))
        if owner is not None:
            query = query.where(sessions.c.owner == owner)
        if status is not None:
            query = query.where(sessions.c.status == status)
        if cwd is not None:
            query = query.where(sessions.c.spec["cwd"].as_string() == cwd)
        if within is not None:
            stored = sessions.c.spec["cwd"].as_string()
            query = query.where(or_(false(), *(
                or_(stored == root, stored.startswith(root.rstrip("/") + "/", autoescape=True)) for root in within
            )))
        query = query.order_by(sessions.c.last_activity.desc(), sessions.c.session_id).limit(limit).offset(offset)
        rows = await self._run(lambda conn: conn.execute(query).all())
        return [SessionRecord(**row._mapping) for row in rows]

    async def count_by_state(self) -> dict[str, int]:
        """``{"live": n, "hibernated": n, "closed": n}``, 0 for a state with no record."""
        query = select(sessions.c.state, func.count()).group_by(sessions.c.state)
        counts = dict(await self._run(lambda conn: conn.execute(query).all()))
        return {state: counts.get(state, 0) for state in STATES}

    async def recover(self, node_id: str | None = None) -> list[SessionRecord]:
        """Make every ``live`` record ``hibernated`` (status too), in one transaction; with
        ``node_id``, only those no other live node holds a lease of (see :func:`.leases.recover`).

        Returns:
            Those records as they were before, oldest ``last_activity`` first.
        """
        await self._writer.flush()
        if node_id is not None and self._engine.url.get_backend_name() == "sqlite":
            # One server at a time holds a SQLite registry (the data dir's lock): whatever an earlier
            # process left, under any node id (a restart on another port has another), is this one's now.
            await self.cluster.forget_others(node_id)
        if node_id is not None:
            return await self.cluster.recover(node_id)
        live = sessions.c.state == "live"

        def hibernate_live(conn: Connection) -> list[SessionRecord]:
            rows = conn.execute(select(sessions).where(live).order_by(sessions.c.last_activity))
            before = [SessionRecord(**row._mapping) for row in rows]
            conn.execute(update(sessions).where(live).values(state="hibernated", status="hibernated"))
            return before

        return await self._run(hibernate_live, write=True)

    # -- aliases -------------------------------------------------------------

    async def find_alias(self, namespace: str, alias: str) -> str | None:
        """The session id filed under ``alias`` in ``namespace``, or None."""
        query = select(aliases.c.session_id).where(aliases.c.namespace == namespace, aliases.c.alias == alias)
        return await self._run(lambda conn: conn.scalar(query))

    async def aliases_of(self, namespace: str, session_id: str) -> list[str]:
        """The aliases of a session in ``namespace``, oldest first."""
        query = (
            select(aliases.c.alias)
            .where(aliases.c.namespace == namespace, aliases.c.session_id == session_id)
            .order_by(aliases.c.created_at, aliases.c.alias)
        )
        return await self._run(lambda conn: list(conn.scalars(query).all()))

    async def put_alias(self, namespace: str, alias: str, session_id: str, *, replace: bool = False) -> None:
        """File a session under ``alias`` (moving the alias if another session had it).

        Args:
            replace: Also drop the session's other aliases in ``namespace``, in the same transaction.
        """
        row = {"namespace": namespace, "alias": alias, "session_id": session_id, "created_at": utcnow()}

        def file(conn: Connection) -> None:
            if replace:
                conn.execute(delete(aliases).where(aliases.c.namespace == namespace, aliases.c.session_id == session_id))
            conn.execute(upsert(conn.dialect, aliases, ["namespace", "alias"]), row)

        await self._run(file, write=True)

    async def drop_alias(self, namespace: str, alias: str) -> None:
        """Remove an alias (nothing happens when there is none)."""
        query = delete(aliases).where(aliases.c.namespace == namespace, aliases.c.alias == alias)
        await self._run(lambda conn: conn.execute(query), write=True)

    # -- events --------------------------------------------------------------

    def append(self, event: EventRecord, size: int | None = None) -> None:
        """Enqueue an event (kept through an outage; see :mod:`.writer`); ``size``: its JSON's
        length in bytes, when known (else measured)."""
        self._writer.append(event, size)

    async def events(self, *, session_id: str | None, after: int, limit: int = 10_000) -> list[EventRecord]:
        """Persisted events with ``id > after``, oldest first, at most ``limit``.

        Args:
            session_id: That session's own events (``server`` False), or None
                for every event, lifecycle ones included.
            after: An event id; 0 for the start.
            limit: Events returned, at most.
        """
        query = select(events).where(events.c.id > after)
        if session_id is not None:
            query = query.where(events.c.session_id == session_id, events.c.server.is_(False))
        query = query.order_by(events.c.id).limit(limit)
        rows = await self._run(lambda conn: conn.execute(query).all())
        return [EventRecord(**row._mapping) for row in rows]

    async def cost_since(self, since: datetime) -> float:
        """USD spent on turns that ended at or after ``since`` (summed ``turn_cost_usd`` of persisted ``result`` events)."""
        cost = events.c.data["turn_cost_usd"].as_float()
        query = select(func.coalesce(func.sum(cost), 0.0)).where(
            events.c.type == "result", events.c.server.is_(False), events.c.created_at >= since.astimezone(UTC).isoformat()
        )
        return float(await self._run(lambda conn: conn.scalar(query)) or 0.0)

    async def activity(self, since: datetime, width: int) -> list[tuple[str, int, float]]:
        """Turns that ended at or after ``since``, grouped by the first ``width`` characters of
        their ``result`` event's UTC ISO-8601 time (10: per day, 13: per hour): ``(prefix,
        turns, USD)`` rows, oldest first, only the periods that had turns."""
        period = func.substr(events.c.created_at, 1, width)
        cost = func.coalesce(func.sum(events.c.data["turn_cost_usd"].as_float()), 0.0)
        query = (
            select(period, func.count(), cost)
            .where(events.c.type == "result", events.c.server.is_(False), events.c.created_at >= since.astimezone(UTC).isoformat())
            .group_by(period)
            .order_by(period)
        )
        rows = await self._run(lambda conn: conn.execute(query).all())
        return [(str(p), int(n), float(c or 0.0)) for p, n, c in rows]

    async def last_event_id(self) -> int:
        """The greatest persisted event id (0 when there is none)."""
        query = select(func.coalesce(func.max(events.c.id), 0))
        return await self._run(lambda conn: conn.scalar(query))

    async def flush(self) -> None:
        """Wait until everything enqueued before this call is durable: in the database, or,
        while it cannot be reached, fsync'd to the spill file.

        Raises:
            RegistryUnavailable: Neither within ``flush_timeout`` seconds.
            RuntimeError: The writer task has stopped.
        """
        await self._writer.flush()

    def health(self) -> WriterHealth:
        """The database as the writer sees it (``ok``, ``unavailable``, ``catching_up``), what waits,
        and the writer's counters (events persisted, spilled, dropped; batches committed)."""
        return self._writer.health()

    def check(self) -> None:
        """Raise :class:`~.errors.RegistryUnavailable` now if a read would (no I/O)."""
        self._writer.check()
