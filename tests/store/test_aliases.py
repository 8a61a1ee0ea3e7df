"""Aliases (adapters' names for sessions) and the cost of turns since a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from claude_agent_server.store import EventRecord, SqlRegistry

A = "6f1c2a9e-0000-4000-8000-00000000000a"
B = "6f1c2a9e-0000-4000-8000-00000000000b"


async def test_alias_round_trip_lookup_both_ways(registry: SqlRegistry) -> None:
    assert await registry.find_alias("opencode", "ses_1") is None
    await registry.put_alias("opencode", "ses_1", A)
    await registry.put_alias("gateway", "ses_1", B)  # namespaces are separate
    assert await registry.find_alias("opencode", "ses_1") == A
    assert await registry.find_alias("gateway", "ses_1") == B
    assert await registry.aliases_of("opencode", A) == ["ses_1"]
    assert await registry.aliases_of("opencode", B) == []


async def test_an_alias_moves_to_its_newest_session(registry: SqlRegistry) -> None:
    await registry.put_alias("gateway", "h1", A)
    await registry.put_alias("gateway", "h1", B)
    assert await registry.find_alias("gateway", "h1") == B
    assert await registry.aliases_of("gateway", A) == []


async def test_replace_drops_the_sessions_other_aliases(registry: SqlRegistry) -> None:
    await registry.put_alias("gateway", "h1", A)
    await registry.put_alias("gateway", "h2", A)
    await registry.put_alias("opencode", "ses_a", A)
    await registry.put_alias("gateway", "h3", A, replace=True)
    assert await registry.aliases_of("gateway", A) == ["h3"]
    assert await registry.find_alias("gateway", "h1") is None
    assert await registry.aliases_of("opencode", A) == ["ses_a"]  # other namespaces untouched
    await registry.drop_alias("gateway", "h3")
    await registry.drop_alias("gateway", "h3")  # twice: no error
    assert await registry.aliases_of("gateway", A) == []


async def test_cost_since_sums_turn_costs_of_result_events(registry: SqlRegistry) -> None:
    day = datetime(2026, 11, 22, tzinfo=UTC)

    def result(n: int, at: datetime, cost: float | None, kind: str = "result") -> EventRecord:
        data = {"cost_usd": 99.0} if cost is None else {"cost_usd": 99.0, "turn_cost_usd": cost}
        return EventRecord(1_800_000_000_000_000 + n, A, kind, data, at.isoformat())

    for event in (
        result(1, day - timedelta(seconds=1), 5.0),  # yesterday
        result(2, day, 0.25),
        result(3, day + timedelta(hours=3), 0.5),
        result(4, day + timedelta(hours=4), None),  # before turn costs were recorded
        result(5, day + timedelta(hours=5), 7.0, kind="message"),
    ):
        registry.append(event)
    await registry.flush()
    assert await registry.cost_since(day) == 0.75
    plus_two = timezone(timedelta(hours=2))
    assert await registry.cost_since(datetime(2026, 11, 22, 2, 0, 1, tzinfo=plus_two)) == 0.5  # 00:00:01 UTC
    assert await registry.cost_since(day + timedelta(days=1)) == 0.0


async def test_activity_groups_turns_and_cost_by_day_and_hour(registry: SqlRegistry) -> None:
    day = datetime(2026, 11, 22, tzinfo=UTC)

    def result(n: int, at: datetime, cost: float | None, kind: str = "result") -> EventRecord:
        data = {} if cost is None else {"turn_cost_usd": cost}
        return EventRecord(1_800_000_000_000_100 + n, A, kind, data, at.isoformat())

    for event in (
        result(1, day - timedelta(seconds=1), 5.0),  # the day before
        result(2, day, 0.25),
        result(3, day + timedelta(minutes=59), 0.5),
        result(4, day + timedelta(hours=3), None),  # a turn without a recorded cost
        result(5, day + timedelta(hours=5), 7.0, kind="message"),  # not a turn
    ):
        registry.append(event)
    await registry.flush()
    assert await registry.activity(day, 10) == [("2026-11-22", 3, 0.75)]
    assert await registry.activity(day - timedelta(days=1), 10) == [("2026-11-21", 1, 5.0), ("2026-11-22", 3, 0.75)]
    assert await registry.activity(day, 13) == [("2026-11-22T00", 2, 0.75), ("2026-11-22T03", 1, 0.0)]
    assert await registry.activity(day + timedelta(days=1), 13) == []
