"""``GET /ui/activity``: turns and cost per day (30 days) and per hour (48 hours), for the
dashboard's charts, from the registry's ``result`` events (one grouped query per series)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claude_agent_protocol import Activity, ActivityPeriod

from ..store import Registry

DAYS = 30
HOURS = 48
DAY_PREFIX = 10  # "2026-12-06"
HOUR_PREFIX = 13  # "2026-12-06T17"


async def _series(registry: Registry, first: datetime, step: timedelta, count: int, width: int) -> list[ActivityPeriod]:
    found = {prefix: (turns, cost) for prefix, turns, cost in await registry.activity(first, width)}
    periods = []
    for index in range(count):
        start = first + step * index
        turns, cost = found.get(start.isoformat()[:width], (0, 0.0))
        periods.append(ActivityPeriod(start=start.isoformat(), turns=turns, cost_usd=round(cost, 6)))
    return periods


async def activity(registry: Registry, now: datetime | None = None) -> Activity:
    """The last :data:`DAYS` UTC days and :data:`HOURS` UTC hours up to ``now`` (default: now),
    every period present (zeros where no turn ended).

    Raises:
        RegistryUnavailable: The registry's database cannot be reached (503).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    return Activity(
        days=await _series(registry, day - timedelta(days=DAYS - 1), timedelta(days=1), DAYS, DAY_PREFIX),
        hours=await _series(registry, hour - timedelta(hours=HOURS - 1), timedelta(hours=1), HOURS, HOUR_PREFIX),
        timestamp=now.isoformat(),
    )
