"""The one small interface the session layer uses to reach the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from .cluster import ClusterStore
from .feed import EventFeed
from .records import EventRecord, SessionRecord, SessionState
from .health import WriterHealth
from .parked import ParkedStore
from .responses import ResponseStore
from .write_behind import WriteBehindStore
from .users import UserStore
from .audit import AuditLog
from .outbox import WebhookOutbox


class Registry(Protocol):
    """The durable registry of sessions and their event log.

    Reads are awaited; writes of events and record updates are *enqueued*
    (never block, never await) and written in batches by one writer task, in
    the order they were enqueued, and kept through a database outage (in memory,
    then in a local spill file). :meth:`flush` waits until what was enqueued so far
    is durable. Every awaited call raises :class:`~.errors.RegistryUnavailable`
    (``retry_after`` seconds) while the database cannot be reached.
    """

    responses: ResponseStore
    """The OpenAI Responses API's stored responses (used by the gateway only)."""
    parked: ParkedStore
    """Pending permission requests, kept across restarts and nodes (:mod:`.parked`)."""
    users: UserStore
    """Users and their API keys."""
    audit: AuditLog
    """The audit log and per-user spend."""
    webhooks: WebhookOutbox
    """Webhook deliveries waiting for any node to make them (:mod:`.outbox`)."""

    async def close(self) -> None:
        """Flush what is queued, stop the writer, dispose of the engine."""

    # -- sessions ------------------------------------------------------------

    async def get(self, session_id: str) -> SessionRecord | None:
        """The record with this id (any state), or None."""

    async def put(self, record: SessionRecord) -> None:
        """Insert or replace a record now (awaited; used when a session is created or revived)."""

    def update(self, record: SessionRecord) -> None:
        """Enqueue the record's current values for the writer; the newest enqueued
        snapshot of a session wins within a batch. Never blocks."""

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
        """Records in ``states`` (and with ``status``, ``spec["cwd"]`` and ``owner``, if given; with a
        ``spec["cwd"]`` that is one of the directories ``within`` or below one, if given),
        newest ``last_activity`` first."""

    async def count_by_state(self) -> dict[str, int]:
        """``{"live": n, "hibernated": n, "closed": n}`` (every state present, 0 if none)."""

    async def recover(self, node_id: str | None = None) -> list[SessionRecord]:
        """At start-up: every record left ``live`` by a previous server becomes
        ``hibernated`` (status ``hibernated``); returns those records as they
        were before (their ``status`` tells whether a turn was running). With ``node_id``,
        the records leased to another live node stay as they are."""

    @property
    def cluster(self) -> ClusterStore:
        """Nodes and session leases."""

    async def listen(self, on_notify: Callable[[str], None], on_delta: Callable[[str], None] | None = None) -> EventFeed | None:
        """On PostgreSQL: ``on_notify(node_id)`` each time a node commits events and ``on_delta(payload)``
        for other nodes' text deltas (see :mod:`.feed`); None on SQLite."""

    # -- aliases (adapters' names for sessions) ----------------------------------

    async def find_alias(self, namespace: str, alias: str) -> str | None:
        """The session id filed under ``alias`` in ``namespace``, or None."""

    async def aliases_of(self, namespace: str, session_id: str) -> list[str]:
        """The aliases of a session in ``namespace``, oldest first."""

    async def put_alias(self, namespace: str, alias: str, session_id: str, *, replace: bool = False) -> None:
        """File a session under ``alias`` now (awaited); ``replace`` drops its other aliases in ``namespace``."""

    async def drop_alias(self, namespace: str, alias: str) -> None:
        """Remove an alias (nothing happens when there is none)."""

    # -- transcripts ------------------------------------------------------------

    @property
    def transcripts(self) -> WriteBehindStore:
        """The SDK's ``SessionStore`` on the registry's database (``append`` queues; reads see it)."""

    # -- events --------------------------------------------------------------

    def append(self, event: EventRecord, size: int | None = None) -> None:
        """Enqueue an event. Never blocks. Writing an id twice is a no-op.

        ``size``: about how many bytes its row holds (its JSON's length), when the caller
        knows it already; else the registry measures it."""

    async def events(self, *, session_id: str | None, after: int, limit: int = 10_000) -> list[EventRecord]:
        """Persisted events with ``id > after``, oldest first, at most ``limit``.

        ``session_id`` given: that session's own events (``server`` False);
        None: every event, lifecycle ones included (the global stream)."""

    async def cost_since(self, since: datetime) -> float:
        """USD spent on turns whose ``result`` event was persisted at or after ``since``."""

    async def activity(self, since: datetime, width: int) -> list[tuple[str, int, float]]:
        """``(period, turns, USD)`` of the turns ended since ``since``, by the first ``width``
        characters of their UTC ISO-8601 end time (10: day, 13: hour), oldest first."""

    async def last_event_id(self) -> int:
        """The greatest persisted event id (0 when there is none)."""

    async def flush(self) -> None:
        """Wait until everything enqueued before this call is durable: in the database or,
        while it cannot be reached, fsync'd to the spill file.

        Raises:
            RegistryUnavailable: Neither happened within the registry's flush timeout.
        """

    def health(self) -> WriterHealth:
        """The database's state as the writer sees it, what waits to be written, and the
        writer's counters since the registry opened (events persisted, spilled, dropped)."""

    def check(self) -> None:
        """Raise :class:`~.errors.RegistryUnavailable` if reads would now (no I/O)."""
