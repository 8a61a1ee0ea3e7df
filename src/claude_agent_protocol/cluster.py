"""The cluster's nodes (``GET /nodes``)."""

from __future__ import annotations

from .base import WireModel

__all__ = ["NodeList", "NodeView"]


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
