"""The registry's cluster side, awaited: nodes (:mod:`.nodes`) and session leases (:mod:`.leases`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from . import leases, nodes
from .leases import Claim, Lease, Owner
from .nodes import NodeInfo
from .records import SessionRecord, utcnow

__all__ = ["Claim", "ClusterStore", "Lease", "NodeInfo", "Owner"]

Run = Callable[..., Awaitable[Any]]


class ClusterStore:
    """Nodes and leases on the registry's database.

    Args:
        run: The registry's transaction runner (``run(work, write=..., single=...)``).
        lease: Seconds a lease (and a node's heartbeat) stays valid.
        shared: Other nodes may claim this node's leases (PostgreSQL); False for a SQLite
            registry, which one server at a time holds.
    """

    def __init__(self, run: Run, lease: float = 10.0, shared: bool = False) -> None:
        self._run = run
        self.lease = lease
        self.shared = shared

    async def forget_others(self, node_id: str) -> None:
        """Drop every other node's leases and mark those nodes stopped (a SQLite registry: one
        server at a time holds it, so what an earlier process left is this one's)."""
        await self._run(partial(_forget_others, node_id), write=True)

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease)

    async def take(self, session_id: str, node_id: str) -> Lease:
        """Take ``session_id``'s lease for ``node_id`` (see :func:`.leases.take`)."""
        now = utcnow()
        return await self._run(partial(leases.take, session_id=session_id, node_id=node_id, now=now, expires_at=self._expiry(now)), write=True)

    async def owner(self, session_id: str, node_id: str) -> Owner | None:
        """Another node holding ``session_id``'s lease (``dead`` once expired), or None (see :func:`.leases.owner`)."""
        return await self._run(partial(leases.owner, session_id=session_id, node_id=node_id, now=utcnow()), single=True)

    async def holders(self, session_ids: list[str]) -> dict[str, str]:
        """The node holding each of these sessions' unexpired leases (sessions without one left out)."""
        if not session_ids:
            return {}
        return await self._run(partial(leases.holders, session_ids=session_ids, now=utcnow()))

    async def release(self, session_id: str, node_id: str) -> None:
        await self._run(partial(leases.release, session_id=session_id, node_id=node_id), write=True)

    async def expired(self, node_id: str) -> list[tuple[str, str]]:
        """``(session id, dead node id)`` of other nodes' expired leases (see :func:`.leases.expired`)."""
        return await self._run(partial(leases.expired, node_id=node_id, now=utcnow()))

    async def claim(self, session_id: str, dead: str, node_id: str) -> Claim | None:
        """Claim ``dead``'s expired lease of ``session_id`` for ``node_id``, exactly once across
        nodes (see :func:`.leases.claim`); None when another node did, or it is not expired."""
        now = utcnow()
        return await self._run(partial(leases.claim, session_id=session_id, dead=dead, node_id=node_id, now=now, expires_at=self._expiry(now)), write=True)

    async def unclaim(self, session_id: str, dead: str, node_id: str) -> None:
        """Give a claimed lease back, expired (see :func:`.leases.unclaim`)."""
        await self._run(partial(leases.unclaim, session_id=session_id, dead=dead, node_id=node_id, now=utcnow()), write=True)

    async def recover(self, node_id: str) -> list[SessionRecord]:
        """At start-up (see :func:`.leases.recover`)."""
        return await self._run(partial(leases.recover, node_id=node_id), write=True)

    async def beat(self, node_id: str, url: str, started_at: datetime, live: int) -> set[str]:
        """A heartbeat: the node's row and its leases' expiry, in one transaction.

        Returns:
            The sessions whose lease ``node_id`` still holds (see :func:`.nodes.beat`).
        """
        now = utcnow()
        work = partial(nodes.beat, node_id=node_id, url=url, started_at=started_at, now=now, expires_at=self._expiry(now), live=live)
        return set(await self._run(work, write=True))

    async def stop(self, node_id: str) -> None:
        """A clean stop: every lease of the node released, the node marked stopped."""

        def work(conn: Any) -> None:
            leases.release_all(conn, node_id)
            nodes.stop(conn, node_id, utcnow())

        await self._run(work, write=True)

    async def nodes(self) -> list[NodeInfo]:
        return await self._run(nodes.listing)


def _forget_others(node_id: str, conn: Any) -> None:
    from sqlalchemy import delete, update

    from .tables import leases as lease_rows, nodes as node_rows

    conn.execute(delete(lease_rows).where(lease_rows.c.node_id != node_id))
    conn.execute(update(node_rows).where(node_rows.c.node_id != node_id).values(stopped=True))
