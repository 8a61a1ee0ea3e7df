"""``GET /health`` and ``GET /ping`` (AgentCore runtime contract). Never need auth."""

from __future__ import annotations

from datetime import UTC, datetime
from claude_agent_protocol import DatabaseHealth, Health, Ping
from fastapi import APIRouter

from ..web.deps import ManagerDep
from ..web.responses import server_errors

router = APIRouter(tags=["health"])


@router.get("/health", responses=server_errors(public=True))
async def health(manager: ManagerDep) -> Health:
    """Always 200 (it reads no database)::

        {
          "status": "healthy" | "degraded",     # degraded: the registry's database is not "ok"
          "active_sessions": n,                 # Claude Code processes, warm ones included
          "warm_sessions": n,                   # ready in the warm pool
          "database": {
            "status": "ok" | "unavailable" | "catching_up",   # catching_up: it answers again and
                                                # is being written what was spilled meanwhile
            "since": "…" | null,                # when writes began to fail (UTC ISO-8601)
            "pending_events": n,                # accepted events not yet in the database
            "spilled_bytes": n                  # of them, bytes waiting in the local spill file
          },
          "timestamp": "…"                      # UTC ISO-8601
        }
    """
    database = DatabaseHealth.model_validate(manager.registry.health().to_dict())  # its error: in the log (no key here)
    return Health(
        status="healthy" if database.status == "ok" else "degraded",
        active_sessions=manager.live_count,
        warm_sessions=manager.warm_count,
        database=database,
        timestamp=datetime.now(UTC).isoformat(),
    )


@router.get("/ping", responses=server_errors(public=True))
async def ping(manager: ManagerDep) -> Ping:
    """AgentCore runtime contract: ``{status: "Healthy"|"HealthyBusy", time_of_last_update}``.

    Busy while any turn runs or a permission request waits;
    ``time_of_last_update`` (Unix seconds) moves only when the status changes.
    """
    return Ping(status="HealthyBusy" if manager.busy else "Healthy", time_of_last_update=int(manager.busy_since))
