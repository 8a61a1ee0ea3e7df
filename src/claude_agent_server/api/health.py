"""``GET /health`` and ``GET /ping`` (AgentCore runtime contract). Never need auth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from .deps import ManagerDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(manager: ManagerDep) -> dict[str, Any]:
    """``{status:"healthy", active_sessions, warm_sessions, timestamp}``: ``active_sessions``
    counts Claude Code processes (warm ones included), ``warm_sessions`` those ready in the
    warm pool; ``timestamp`` is UTC ISO-8601."""
    return {
        "status": "healthy",
        "active_sessions": manager.live_count,
        "warm_sessions": manager.warm_count,
        "timestamp": datetime.now(UTC).isoformat(),
    }


@router.get("/ping")
async def ping(manager: ManagerDep) -> dict[str, Any]:
    """AgentCore runtime contract: ``{status: "Healthy"|"HealthyBusy", time_of_last_update}``.

    Busy while any turn runs or a permission request waits;
    ``time_of_last_update`` (Unix seconds) moves only when the status changes.
    """
    return {"status": "HealthyBusy" if manager.busy else "Healthy", "time_of_last_update": int(manager.busy_since)}
