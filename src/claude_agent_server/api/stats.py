"""``GET /stats``: the server at a glance, as JSON, for the dashboard and for scripts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from claude_agent_protocol import ClusterStats, SessionCounts, Stats
from fastapi import APIRouter

from .. import __version__
from ..observability.processes import descendant_memory, uptime_seconds
from ..sessions import SessionManager, SessionNotFound
from ..sessions.errors import SessionElsewhere
from ..sessions.tenancy import owner_filter
from ..store import utcnow
from ..web.deps import ManagerDep, SettingsDep
from ..web.responses import server_errors

router = APIRouter(tags=["stats"])

BUSY_STATUSES = ("running", "waiting_permission")
"""Statuses of a session whose turn is running (a permission request waits within a turn)."""
MAX_BUSY = 1000


async def _busy_sessions(manager: SessionManager) -> tuple[int, int]:
    """``(turns running, pending permission requests)`` across the registry's sessions."""
    turns = pending = 0
    for status in BUSY_STATUSES:
        for entry in await manager.list(status=status, limit=MAX_BUSY):
            turns += 1
            try:
                session = await manager.get(entry["session_id"])
            except (SessionNotFound, SessionElsewhere):
                continue  # closed meanwhile, or its permissions wait on another node
            pending += len(session.permissions.pending())
    return turns, pending


@router.get("/stats", responses=server_errors(503))
async def stats(manager: ManagerDep, settings: SettingsDep) -> Stats:
    """The server's sessions, work, spending and memory, read now::

        {
          "sessions": {"live": n, "hibernated": n, "warm": n},   # as in GET /sessions' counts
          "turns_running": n,           # sessions running a turn (waiting for a permission included)
          "pending_permissions": n,     # permission requests waiting for an answer, all sessions
          "cost_today_usd": x,          # USD of the turns that ended since 00:00 UTC today
          "cost_since": "…T00:00:00+00:00",
          "cli_processes": n,           # Claude Code processes held, warm ones included
          "cli_memory_bytes": n | null, # resident memory of the server's child processes (the
                                        # CLIs and the tools they run); null when it cannot be read
          "uptime_seconds": x | null,   # since the server process started
          "version": "0.1.0",
          "timestamp": "…",             # UTC ISO-8601, when this was read
          "node_id": "host:8000",       # this node (the figures above are its own)
          "cluster": {"nodes": n, "nodes_alive": n, "live_sessions": n, "cli_processes": n}
        }
    """
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = await manager.counts()
    turns, pending = await _busy_sessions(manager)
    mine = owner_filter()  # a member: their own spend
    cost = await (manager.registry.cost_since(midnight) if mine is None else manager.registry.audit.spent_since(mine, midnight))
    memory = await asyncio.to_thread(descendant_memory)
    nodes = await manager.registry.cluster.nodes()
    alive = [n for n in nodes if not n.stopped and n.heartbeat_at >= utcnow() - timedelta(seconds=settings.node_lease)]
    return Stats(
        sessions=SessionCounts.model_validate(counts),
        turns_running=turns,
        pending_permissions=pending,
        cost_today_usd=round(cost, 6),
        cost_since=midnight.isoformat(),
        cli_processes=manager.live_count,
        cli_memory_bytes=memory.rss_bytes if memory is not None else None,
        uptime_seconds=uptime_seconds(),
        version=__version__,
        timestamp=now.isoformat(),
        node_id=manager.node_id,
        cluster=ClusterStats(
            nodes=len(nodes), nodes_alive=len(alive), live_sessions=sum(n.leases for n in alive),
            cli_processes=sum(n.live_sessions for n in alive),
        ),
    )
