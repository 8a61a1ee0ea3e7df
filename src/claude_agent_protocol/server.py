"""Replies about the server itself: health, AgentCore's ping, stats, and the error body."""

from __future__ import annotations

from typing import Any, Literal

from .cluster import ClusterStats
from .base import WireModel
from .sessions import SessionCounts


class DatabaseHealth(WireModel):
    """The registry's database in ``GET /health``: ``catching_up`` when it answers again and is
    being written what was spilled meanwhile; ``since`` when writes began to fail (UTC
    ISO-8601); ``pending_events`` accepted but not yet stored; ``spilled_bytes`` of them in
    the local spill file."""

    status: Literal["ok", "unavailable", "catching_up"]
    since: str | None = None
    pending_events: int = 0
    spilled_bytes: int = 0


class Health(WireModel):
    """``GET /health``: ``degraded`` when the registry's database is not ``ok``;
    ``active_sessions`` counts Claude Code processes (warm ones included), ``warm_sessions``
    those ready in the warm pool; ``timestamp`` UTC ISO-8601."""

    status: str
    active_sessions: int
    warm_sessions: int = 0
    database: DatabaseHealth | None = None
    timestamp: str


class Ping(WireModel):
    """``GET /ping``, the AWS Bedrock AgentCore runtime contract: busy while any turn runs or a
    permission waits; ``time_of_last_update`` (Unix seconds) moves only when the status changes."""

    status: Literal["Healthy", "HealthyBusy"]
    time_of_last_update: int


class Stats(WireModel):
    """``GET /stats``: the server at a glance. ``cost_today_usd``: USD of the turns that ended
    since ``cost_since`` (00:00 UTC today); ``cli_memory_bytes``: resident memory of the
    server's child processes (the CLIs and their tools), None when it cannot be read;
    ``uptime_seconds`` since the server process started."""

    sessions: SessionCounts
    turns_running: int
    pending_permissions: int
    cost_today_usd: float
    cost_since: str
    cli_processes: int
    cli_memory_bytes: int | None = None
    uptime_seconds: float | None = None
    version: str
    timestamp: str
    node_id: str | None = None
    """The node that answered (the figures above are its own, ``sessions.hibernated`` and the turns excepted)."""
    cluster: ClusterStats | None = None
    """Every node's totals."""


class ErrorBody(WireModel):
    """An error of the server's own routes: ``detail`` says what went wrong (a 422 from request
    validation carries the list of problems instead)."""

    detail: str | list[dict[str, Any]]


class ActivityPeriod(WireModel):
    """One period of :class:`Activity`: ``start`` its first instant (UTC ISO-8601), ``turns``
    the turns that ended in it, ``cost_usd`` what they cost (USD)."""

    start: str
    turns: int
    cost_usd: float


class Activity(WireModel):
    """``GET /ui/activity``: turns and cost over time, from the registry's ``result`` events.
    ``days``: the last 30 UTC days, oldest first, today last; ``hours``: the last 48 UTC
    hours, the current hour last. Periods without turns are there with zeros."""

    days: list[ActivityPeriod]
    hours: list[ActivityPeriod]
    timestamp: str
