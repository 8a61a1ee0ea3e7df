"""This node's part in the cluster: its heartbeat, the leases of the sessions it runs,
and taking over what a dead node left.

A session's CLI runs only on the node holding its lease (see ``store/leases.py``):
:meth:`NodeMembership.acquire` takes it before a CLI starts or wakes (raising
:class:`~.errors.SessionElsewhere` when another live node holds it) and
:meth:`NodeMembership.release` gives it back once the CLI has exited. The heartbeat
(:meth:`NodeMembership.run`) renews every lease of this node and reaps the expired
leases of dead nodes: their sessions are hibernated, a running turn ends with an
``error`` event and pending permission requests are denied, both with reason ``node_lost``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from ..store import Registry, SessionRecord, StoreError, utcnow
from .errors import SessionElsewhere
from .journal import EventJournal

log = logging.getLogger(__name__)

LIVE_STATUSES = ("running", "waiting_permission")
NODE_LOST = "node_lost"


class NodeMembership:
    """Leases and heartbeat of one node.

    Args:
        registry: The shared registry.
        journal: Where the events of taken-over sessions go.
        node_id: This node's id.
        url: This node's URL for other nodes (None while unknown).
        heartbeat: Seconds between heartbeats.
        live: How many CLIs this node runs now.
        permission_timeout: Seconds a permission request may wait (bounds the search for pending ones).
    """

    def __init__(
        self, registry: Registry, journal: EventJournal, node_id: str, url: Callable[[], str | None],
        heartbeat: float, live: Callable[[], int], permission_timeout: float,
    ) -> None:
        self._registry = registry
        self._journal = journal
        self.node_id = node_id
        self._url = url
        self._heartbeat = heartbeat
        self._live = live
        self._permission_timeout = permission_timeout
        self._started_at = utcnow()
        self._releasing: dict[str, asyncio.Task[None]] = {}

    async def acquire(self, session_id: str, status: str) -> None:
        """Take the session's lease for this node (before its CLI starts or wakes).

        Args:
            status: The session's status as last recorded (a turn may have been running on a dead node).

        Raises:
            SessionElsewhere: Another live node holds it.
        """
        if (pending := self._releasing.get(session_id)) is not None:
            await asyncio.shield(pending)  # a release still under way must not delete the lease taken now
        lease = await self._registry.cluster.take(session_id, self.node_id)
        if not lease.acquired:
            assert lease.holder is not None
            raise SessionElsewhere(session_id, lease.holder.node_id, lease.holder.url)
        if lease.lost is not None:
            await self._lost(session_id, status, lease.lost)

    def release(self, session_id: str) -> None:
        """Give the lease back (in the background; a later :meth:`acquire` waits for it)."""

        async def release() -> None:
            try:
                await self._registry.cluster.release(session_id, self.node_id)
            except Exception as exc:  # the lease expires with the heartbeat's end anyway
                log.warning("could not release the lease of session %s: %s", session_id, exc)
            finally:
                if self._releasing.get(session_id) is task:
                    del self._releasing[session_id]

        task = asyncio.create_task(release(), name=f"release-{session_id[:8]}")
        self._releasing[session_id] = task

    async def beat(self) -> list[str]:
        """One heartbeat: this node's row and leases renewed, dead nodes' sessions taken over.

        Returns:
            The ids of the sessions taken over.
        """
        url = self._url()
        if url is not None:
            await self._registry.cluster.beat(self.node_id, url, self._started_at, self._live())
        reaped = await self._registry.cluster.reap()
        for record, node in reaped:
            await self._lost(record.session_id, record.status, node, record)
        if reaped:
            await self._registry.flush()  # what it left is readable from every node at once
        return [record.session_id for record, _ in reaped]

    async def run(self) -> None:
        """Heartbeat every ``heartbeat`` seconds, forever (a task; cancel it to stop)."""
        while True:
            started = time.monotonic()
            try:
                await self.beat()
            except (StoreError, OSError) as exc:
                log.warning("node %s: heartbeat failed: %s", self.node_id, exc)
            except Exception:
                log.exception("node %s: heartbeat failed", self.node_id)
            await asyncio.sleep(max(0.0, self._heartbeat - (time.monotonic() - started)))

    async def stop(self) -> None:
        """A clean stop: leases released, the node marked stopped."""
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._releasing.values())
        await self._registry.cluster.stop(self.node_id)

    async def _lost(self, session_id: str, status: str, node: str, record: SessionRecord | None = None) -> None:
        """Record what a dead node left: the turn's ``error``, pending permissions denied (they were
        not parked: their CLI died with the node), ``hibernated``."""
        message = f"node {node} was lost"
        log.warning("session %s: %s; its CLI is gone (status was %s)", session_id, message, status)
        journal = self._journal
        if status in LIVE_STATUSES:
            await self._registry.parked.delete_session(session_id)  # not parked: its CLI died with the node
            for request_id, tool_use_id in await self._pending_permissions(session_id):
                journal.record(session_id, "permission_resolved", request_id=request_id, tool_use_id=tool_use_id,
                               allowed=False, reason=NODE_LOST, message=message)
            journal.record(session_id, "error", message=message, reason=NODE_LOST)
        if record is not None:
            journal.record(session_id, "status", status="hibernated")
            journal.announce("session_status", session_id, status="hibernated", state="hibernated")

    async def _pending_permissions(self, session_id: str) -> list[tuple[str, str | None]]:
        """``(request_id, tool_use_id)`` of the session's requests with no ``permission_resolved`` yet."""
        after = int((time.time() - self._permission_timeout - 3600) * 1_000_000) if self._permission_timeout else 0
        await self._registry.flush()
        pending: dict[str, str | None] = {}
        for event in await self._registry.events(session_id=session_id, after=after):
            if event.type == "permission_request":
                pending[event.data.get("request_id", "")] = event.data.get("tool_use_id")
            elif event.type == "permission_resolved":
                pending.pop(event.data.get("request_id", ""), None)
        return [(rid, tid) for rid, tid in pending.items() if rid]
