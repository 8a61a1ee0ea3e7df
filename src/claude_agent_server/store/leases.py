"""Session leases: which node runs each live session's CLI, taken and checked in one transaction.

A lease is a row of ``session_leases`` (session id, node id, ``expires_at``). A node takes
it before it starts or wakes a session's CLI, its heartbeat pushes ``expires_at`` forward
for every lease it holds (:func:`~.nodes.beat`), and it deletes it once the CLI has exited.
A lease whose ``expires_at`` has passed belongs to a dead node: it is never taken as if it
were free. One live node *claims* it (:func:`claim`: one conditional ``UPDATE`` that moves it
to that node, so exactly one node wins), records what the dead node left (the turn's end,
the record hibernated), and only then releases it.

Every decision is made in one statement or under the row's lock (``SELECT ... FOR UPDATE``
on PostgreSQL; SQLite's write transactions are ``BEGIN IMMEDIATE``, so they run one at a
time): never a read, an ``await``, then a write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from .dialects import insert
from .records import SessionRecord
from .tables import leases, nodes, sessions

__all__ = ["Claim", "Lease", "Owner", "claim", "expired", "holders", "owner", "recover", "release", "release_all", "take", "unclaim"]


@dataclass(frozen=True, slots=True)
class Owner:
    """The node holding a session's lease, and where it is reached."""

    node_id: str
    url: str | None
    dead: bool = False
    """Its lease has expired: the node is dead and what it left is not taken over yet (see :func:`claim`)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """The answer to :func:`take`.

    Attributes:
        acquired: True when the caller now holds the lease.
        holder: Who holds it when ``acquired`` is False (``holder.dead``: claim it first).
    """

    acquired: bool
    holder: Owner | None = None


def take(conn: Connection, session_id: str, node_id: str, now: datetime, expires_at: datetime) -> Lease:
    """Take (or renew) ``session_id``'s lease for ``node_id`` unless another node holds it,
    alive or dead (an expired lease is claimed with :func:`claim`, never taken as if it were free)."""
    conn.execute(insert(conn.dialect, leases).on_conflict_do_nothing(), {"session_id": session_id, "node_id": node_id, "expires_at": expires_at})
    row = conn.execute(select(leases).where(leases.c.session_id == session_id).with_for_update()).one()
    if row.node_id != node_id:
        url = conn.scalar(select(nodes.c.url).where(nodes.c.node_id == row.node_id))
        return Lease(False, Owner(row.node_id, url, dead=row.expires_at < now))
    conn.execute(update(leases).where(leases.c.session_id == session_id).values(expires_at=expires_at))
    return Lease(True)


def owner(conn: Connection, session_id: str, node_id: str, now: datetime) -> Owner | None:
    """The other node holding ``session_id``'s lease (``dead`` when it has expired), or None (free, or ``node_id``'s)."""
    query = (
        select(leases.c.node_id, leases.c.expires_at, nodes.c.url)
        .select_from(leases.outerjoin(nodes, nodes.c.node_id == leases.c.node_id))
        .where(leases.c.session_id == session_id, leases.c.node_id != node_id)
    )
    row = conn.execute(query).first()
    return None if row is None else Owner(row.node_id, row.url, dead=row.expires_at < now)


def holders(conn: Connection, session_ids: list[str], now: datetime) -> dict[str, str]:
    """``{session id: node id}`` of the unexpired leases among ``session_ids``."""
    query = select(leases.c.session_id, leases.c.node_id).where(leases.c.session_id.in_(session_ids), leases.c.expires_at >= now)
    return {row.session_id: row.node_id for row in conn.execute(query)}


def release(conn: Connection, session_id: str, node_id: str) -> None:
    """Give up ``node_id``'s lease of ``session_id`` (nothing happens when it holds none)."""
    conn.execute(delete(leases).where(leases.c.session_id == session_id, leases.c.node_id == node_id))


def release_all(conn: Connection, node_id: str) -> None:
    """Give up every lease ``node_id`` holds (it stops)."""
    conn.execute(delete(leases).where(leases.c.node_id == node_id))


def _hibernate(conn: Connection, ids: list[str]) -> list[SessionRecord]:
    """Make the ``live`` records among ``ids`` hibernated; returns them as they were, oldest activity first."""
    if not ids:
        return []
    live = sessions.c.session_id.in_(ids) & (sessions.c.state == "live")
    rows = conn.execute(select(sessions).where(live).order_by(sessions.c.last_activity).with_for_update())
    before = [SessionRecord(**row._mapping) for row in rows]
    conn.execute(update(sessions).where(live).values(state="hibernated", status="hibernated"))
    return before


def expired(conn: Connection, node_id: str, now: datetime) -> list[tuple[str, str]]:
    """``(session id, dead node id)`` of the expired leases of nodes other than ``node_id``."""
    query = select(leases.c.session_id, leases.c.node_id).where(leases.c.expires_at < now, leases.c.node_id != node_id)
    return [(row.session_id, row.node_id) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class Claim:
    """A dead node's session that a live node claimed (see :func:`claim`).

    Attributes:
        record: The session's record as the dead node left it (None: a session never registered, e.g. a warm one).
    """

    record: SessionRecord | None


def claim(conn: Connection, session_id: str, dead: str, node_id: str, now: datetime, expires_at: datetime) -> Claim | None:
    """Claim ``dead``'s expired lease of ``session_id`` for ``node_id``: the lease moves to
    ``node_id`` (until ``expires_at``) in one conditional ``UPDATE``, so of several nodes
    claiming at once exactly one gets it (on PostgreSQL the others wait for its row lock, then
    find the condition false). The claimer takes over what ``dead`` left, then releases it.

    Returns:
        The claim, with the session's record as it is now; None when the lease is not
        ``dead``'s expired one (claimed by another node, renewed, released).
    """
    moved = conn.execute(
        update(leases)
        .where(leases.c.session_id == session_id, leases.c.node_id == dead, leases.c.expires_at < now)
        .values(node_id=node_id, expires_at=expires_at)
    ).rowcount
    if moved != 1:
        return None
    row = conn.execute(select(sessions).where(sessions.c.session_id == session_id)).first()
    return Claim(None if row is None else SessionRecord(**row._mapping))


def unclaim(conn: Connection, session_id: str, dead: str, node_id: str, now: datetime) -> None:
    """Give a claimed lease back to ``dead``, expired at ``now`` (a takeover that failed: the next heartbeat claims it again)."""
    conn.execute(update(leases).where(leases.c.session_id == session_id, leases.c.node_id == node_id).values(node_id=dead, expires_at=now))


def recover(conn: Connection, node_id: str) -> list[SessionRecord]:
    """At a node's start: release the leases ``node_id`` held in its previous run (one
    ``DELETE``, so a node claiming one of them meanwhile keeps it) and hibernate the ``live``
    records among them and those no node holds a lease of. Another node's expired leases are
    left to :func:`claim` (its dead sessions end with reason ``node_lost``).

    Returns:
        Those records as they were before, oldest ``last_activity`` first.
    """
    mine = list(conn.scalars(delete(leases).where(leases.c.node_id == node_id).returning(leases.c.session_id)))
    unleased = ~select(leases.c.session_id).where(leases.c.session_id == sessions.c.session_id).exists()
    orphans = list(conn.scalars(select(sessions.c.session_id).where(sessions.c.state == "live", unleased)))
    return _hibernate(conn, mine + orphans)
