"""Nodes: the server processes sharing one registry, each with its heartbeat.

A node upserts its row at each heartbeat (:func:`beat`), in the same transaction that
pushes the expiry of every lease it holds forward, so a node's leases live exactly as
long as its heartbeats. A node whose heartbeat is older than the lease time is dead.
The renewal returns the sessions whose lease the node still holds: a session it runs
that is not among them was claimed by another node (see ``sessions/cluster.py``: the
node then stops that session's CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from .dialects import upsert
from .tables import leases, nodes

__all__ = ["NodeInfo", "beat", "listing", "stop"]


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node as the registry knows it (times timezone-aware UTC)."""

    node_id: str
    url: str
    started_at: datetime
    heartbeat_at: datetime
    live_sessions: int
    stopped: bool
    leases: int
    """Sessions whose lease it holds now."""


def beat(conn: Connection, node_id: str, url: str, started_at: datetime, now: datetime, expires_at: datetime, live: int) -> list[str]:
    """Record that ``node_id`` is alive at ``now`` and extend its leases to ``expires_at``.

    Returns:
        The ids of the sessions whose lease ``node_id`` holds (all of them renewed), in one
        statement with the renewal: a lease another node claimed is not among them.
    """
    row = {"node_id": node_id, "url": url, "started_at": started_at, "heartbeat_at": now, "live_sessions": live, "stopped": False}
    conn.execute(upsert(conn.dialect, nodes, ["node_id"]), row)
    renew = update(leases).where(leases.c.node_id == node_id).values(expires_at=expires_at).returning(leases.c.session_id)
    return list(conn.scalars(renew))


def stop(conn: Connection, node_id: str, now: datetime) -> None:
    """Mark ``node_id`` stopped (a clean shutdown; its leases are released separately)."""
    conn.execute(update(nodes).where(nodes.c.node_id == node_id).values(stopped=True, heartbeat_at=now, live_sessions=0))


def listing(conn: Connection) -> list[NodeInfo]:
    """Every node ever registered, by id, with the count of leases each holds."""
    held = select(leases.c.node_id, func.count().label("n")).group_by(leases.c.node_id).subquery()
    query = select(nodes, func.coalesce(held.c.n, 0)).select_from(nodes.outerjoin(held, held.c.node_id == nodes.c.node_id)).order_by(nodes.c.node_id)
    return [NodeInfo(*row) for row in conn.execute(query).all()]
