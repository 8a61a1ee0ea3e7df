"""Session leases: which node runs each live session's CLI, taken and checked in one transaction.

A lease is a row of ``session_leases`` (session id, node id, ``expires_at``). A node takes
it before it starts or wakes a session's CLI, its heartbeat pushes ``expires_at`` forward
for every lease it holds (:func:`~.nodes.beat`), and it deletes it once the CLI has exited.
A lease whose ``expires_at`` has passed belongs to a dead node: the next node to take it,
or the first node whose reaper (:func:`reap`) finds it, takes over what that node left.

Every decision is made under the row's lock (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite's write transactions are ``BEGIN IMMEDIATE``, so they run one at a time): never a
read, an ``await``, then a write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from .dialects import insert
from .records import SessionRecord
from .tables import leases, nodes, sessions

__all__ = ["Lease", "Owner", "holders", "owner", "reap", "recover", "release", "release_all", "take"]


@dataclass(frozen=True, slots=True)
class Owner:
    """The node holding a session's lease, and where it is reached."""

    node_id: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Lease:
    """The answer to :func:`take`.

    Attributes:
        acquired: True when the caller now holds the lease.
        holder: Who holds it when ``acquired`` is False.
        lost: The dead node whose expired lease the caller took over (None otherwise).
    """

    acquired: bool
    holder: Owner | None = None
    lost: str | None = None


def take(conn: Connection, session_id: str, node_id: str, now: datetime, expires_at: datetime) -> Lease:
    """Take (or renew) ``session_id``'s lease for ``node_id`` unless another node holds it unexpired."""
    conn.execute(insert(conn.dialect, leases).on_conflict_do_nothing(), {"session_id": session_id, "node_id": node_id, "expires_at": expires_at})
    row = conn.execute(select(leases).where(leases.c.session_id == session_id).with_for_update()).one()
    if row.node_id != node_id and row.expires_at >= now:
        url = conn.scalar(select(nodes.c.url).where(nodes.c.node_id == row.node_id))
        return Lease(False, Owner(row.node_id, url))
    conn.execute(update(leases).where(leases.c.session_id == session_id).values(node_id=node_id, expires_at=expires_at))
    return Lease(True, lost=None if row.node_id == node_id else row.node_id)


def owner(conn: Connection, session_id: str, node_id: str, now: datetime) -> Owner | None:
    """The other node holding ``session_id``'s lease unexpired, or None (free, expired, or ``node_id``'s)."""
    query = (
        select(leases.c.node_id, nodes.c.url)
        .select_from(leases.outerjoin(nodes, nodes.c.node_id == leases.c.node_id))
        .where(leases.c.session_id == session_id, leases.c.node_id != node_id, leases.c.expires_at >= now)
    )
    row = conn.execute(query).first()
    return None if row is None else Owner(row.node_id, row.url)


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


def reap(conn: Connection, now: datetime) -> list[tuple[SessionRecord, str]]:
    """Delete the expired leases (their nodes are dead) and hibernate those sessions' records.

    Returns:
        ``(record as it was, dead node id)`` for each session that was live.
    """
    expired = select(leases).where(leases.c.expires_at < now).with_for_update(skip_locked=True)
    rows = conn.execute(expired).all()
    if not rows:
        return []
    ids = [row.session_id for row in rows]
    dead = {row.session_id: row.node_id for row in rows}
    conn.execute(delete(leases).where(leases.c.session_id.in_(ids), leases.c.expires_at < now))
    return [(record, dead[record.session_id]) for record in _hibernate(conn, ids)]


def recover(conn: Connection, node_id: str, now: datetime) -> list[SessionRecord]:
    """At a node's start: hibernate the ``live`` records no other live node holds a lease of
    (this node's own, from its previous run; expired ones; those with none) and drop those leases.

    Returns:
        Those records as they were before, oldest ``last_activity`` first.
    """
    held = select(leases.c.session_id).where(leases.c.node_id != node_id, leases.c.expires_at >= now)
    ids = list(conn.scalars(select(sessions.c.session_id).where(sessions.c.state == "live", sessions.c.session_id.not_in(held))))
    conn.execute(delete(leases).where(leases.c.session_id.in_(ids)))
    conn.execute(delete(leases).where(leases.c.node_id == node_id))
    return _hibernate(conn, ids)
