"""``GET /nodes``: the server processes sharing this registry (a cluster on PostgreSQL; one node on SQLite)."""

from __future__ import annotations

from datetime import timedelta

from claude_agent_protocol import NodeList, NodeView
from fastapi import APIRouter

from ..store import utcnow
from ..web.deps import ManagerDep, SettingsDep
from ..web.responses import server_errors

router = APIRouter(tags=["nodes"])


@router.get("/nodes", responses=server_errors(503))
async def list_nodes(manager: ManagerDep, settings: SettingsDep) -> NodeList:
    """Every node that registered, by id: its URL, whether it is alive (a heartbeat within
    ``--node-lease`` seconds, not stopped), the CLIs it ran at its last heartbeat and the
    sessions it holds now."""
    dead_before = utcnow() - timedelta(seconds=settings.node_lease)
    me = manager.node.node_id
    return NodeList(
        node_id=me,
        nodes=[
            NodeView(
                node_id=n.node_id, url=n.url, alive=not n.stopped and n.heartbeat_at >= dead_before, this_node=n.node_id == me,
                live_sessions=n.live_sessions, leases=n.leases, started_at=n.started_at.isoformat(),
                last_heartbeat=n.heartbeat_at.isoformat(),
            )
            for n in await manager.registry.cluster.nodes()
        ],
    )
