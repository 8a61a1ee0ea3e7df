"""The cluster's nodes (``GET /nodes``)."""

from __future__ import annotations

from .base import WireModel

__all__ = ["ClusterStats", "NodeList", "NodeView"]


class ClusterStats(WireModel):
    """The cluster's totals in ``GET /stats``: nodes registered and alive, sessions leased to
    a live node (each runs one CLI), and the CLIs the alive nodes reported at their last heartbeat
    (warm ones included)."""

    nodes: int
    nodes_alive: int
    live_sessions: int
    cli_processes: int


class NodeView(WireModel):
    """One server process sharing the registry. ``alive``: heartbeat newer than the node lease
    and not stopped; ``live_sessions``: CLIs it ran at its last heartbeat; ``leases``: sessions
    it holds now; times are UTC ISO-8601."""

    node_id: str
    url: str
    alive: bool
    this_node: bool
    live_sessions: int
    leases: int
    started_at: str
    last_heartbeat: str


class NodeList(WireModel):
    """``GET /nodes``: every node that ever registered, by id."""

    node_id: str
    """The node that answered."""
    nodes: list[NodeView]
