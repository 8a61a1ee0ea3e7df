"""Session records: round trip, queued updates against put, listing, counting, recovery."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from claude_agent_server.store import SessionRecord, SqlRegistry

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
SPEC = {
    "model": "claude-sonnet",
    "cwd": "/work/x",
    "allowed_tools": ["Read", "Bash(echo x *)"],
    "disallowed_tools": [],
    "max_turns": None,
    "nested": {"rules": [["a", 1], [True, 2.5]]},
}


def record(session_id: str, minutes: int = 0, **fields) -> SessionRecord:
    at = T0 + timedelta(minutes=minutes)
    return SessionRecord(session_id, spec={"model": "m"}, created_at=at, last_activity=at, **fields)


async def test_put_get_round_trips_every_field(registry: SqlRegistry) -> None:
    plus_two = timezone(timedelta(hours=2))
    full = SessionRecord(
        session_id="6f1c2a9e-0000-4000-8000-000000000001",
        spec=SPEC,
        created_at=T0,
        last_activity=datetime(2025, 3, 1, 15, 30, 0, 7, tzinfo=plus_two),
        title="Fix the build ✓",
        state="hibernated",
        status="running",
        turns=7,
        cost_usd=0.012345,
        input_tokens=3_000_000_000,
        output_tokens=42,
        agentcore_session_id="a" * 40,
    )
    await registry.put(full)

    got = await registry.get(full.session_id)

    assert got == full
    assert got.last_activity.tzinfo is UTC and got.created_at.tzinfo is UTC
    assert got.last_activity == datetime(2025, 3, 1, 13, 30, 0, 7, tzinfo=UTC)
    assert await registry.get("missing") is None


async def test_put_replaces_and_refuses_naive_times(registry: SqlRegistry) -> None:
    await registry.put(record("s", title="first"))
    await registry.put(record("s", title="second", turns=2))
    assert (await registry.get("s")).title == "second"

    with pytest.raises(StatementError, match="timezone-aware"):
        await registry.put(replace(record("n"), created_at=datetime(2025, 1, 1)))
    with pytest.raises(ValueError, match="timezone-aware"):
        registry.update(replace(record("n"), last_activity=datetime(2025, 1, 1)))
    assert await registry.get("n") is None


async def test_agentcore_session_id_is_unique(registry: SqlRegistry) -> None:
    await registry.put(record("a", agentcore_session_id="runtime-1"))
    with pytest.raises(IntegrityError):
        await registry.put(record("b", agentcore_session_id="runtime-1"))


async def test_updates_coalesce_into_one_write(registry: SqlRegistry) -> None:
    await registry.put(record("s"))
    batches = registry.health().batches
    live = record("s")
    for turn in range(1, 4):
        live.turns, live.status = turn, f"turn {turn}"
        registry.update(live)
    live.title = "changed after the last update"  # the snapshot was taken at update()

    await registry.flush()

    got = await registry.get("s")
    assert (got.turns, got.status, got.title) == (3, "turn 3", None)
    assert registry.health().batches == batches + 1


async def test_put_lands_after_updates_queued_before_it(open_registry) -> None:
    registry = await open_registry(flush_interval=60)  # the queued update waits for put's flush
    registry.update(record("s", title="queued earlier"))
    await registry.put(record("s", title="put"))
    await registry.flush()
    assert (await registry.get("s")).title == "put"


async def test_list_orders_filters_and_pages(registry: SqlRegistry) -> None:
    await registry.put(record("old", 0))
    await registry.put(record("tie-b", 5, status="running"))
    await registry.put(record("tie-a", 5, state="hibernated", status="hibernated"))
    await registry.put(record("new", 9, status="running"))
    await registry.put(record("gone", 20, state="closed", status="closed"))

    ids = lambda records: [r.session_id for r in records]  # noqa: E731
    assert ids(await registry.list()) == ["new", "tie-a", "tie-b", "old"]
    assert ids(await registry.list(states=["live", "hibernated", "closed"])) == ["gone", "new", "tie-a", "tie-b", "old"]
    assert ids(await registry.list(states=["closed"])) == ["gone"]
    assert ids(await registry.list(status="running")) == ["new", "tie-b"]
    assert ids(await registry.list(states=["live"], status="running")) == ["new", "tie-b"]
    assert ids(await registry.list(limit=2)) == ["new", "tie-a"]
    assert ids(await registry.list(limit=2, offset=2)) == ["tie-b", "old"]
    assert ids(await registry.list(offset=4)) == []


async def test_count_by_state_names_every_state(registry: SqlRegistry) -> None:
    assert await registry.count_by_state() == {"live": 0, "hibernated": 0, "closed": 0}
    for n, state in enumerate(["live", "live", "closed"]):
        await registry.put(record(f"s{n}", state=state))
    assert await registry.count_by_state() == {"live": 2, "hibernated": 0, "closed": 1}


async def test_recover_hibernates_live_records_and_returns_them_as_they_were(registry: SqlRegistry) -> None:
    await registry.put(record("busy", 1, status="running"))
    await registry.put(record("idle", 2, status="connected"))
    await registry.put(record("asleep", 3, state="hibernated", status="hibernated"))
    await registry.put(record("gone", 4, state="closed", status="closed"))

    before = await registry.recover()

    assert [(r.session_id, r.state, r.status) for r in before] == [
        ("busy", "live", "running"),
        ("idle", "live", "connected"),
    ]
    after = {r.session_id: (r.state, r.status) for r in await registry.list(states=["live", "hibernated", "closed"])}
    assert after == {
        "busy": ("hibernated", "hibernated"),
        "idle": ("hibernated", "hibernated"),
        "asleep": ("hibernated", "hibernated"),
        "gone": ("closed", "closed"),
    }
    assert await registry.recover() == []


async def test_list_filters_by_the_spec_cwd(registry: SqlRegistry) -> None:
    for sid, cwd in (("a", "/w/one"), ("b", "/w/two"), ("c", "/w/one"), ("d", "/w/one ✓")):
        await registry.put(SessionRecord(sid, spec={"cwd": cwd, "model": None}, created_at=T0, last_activity=T0 + timedelta(minutes=ord(sid))))
    assert [r.session_id for r in await registry.list(cwd="/w/one")] == ["c", "a"]
    assert [r.session_id for r in await registry.list(cwd="/w/one ✓")] == ["d"]
    assert await registry.list(cwd="/w") == []


async def test_list_within_keeps_sessions_run_in_or_below_the_given_directories(registry: SqlRegistry) -> None:
    cwds = {"a": "/w", "b": "/w/one", "c": "/wide", "d": "/w_x", "e": "/w%/x", "f": "/s/1", "g": "/elsewhere"}
    for minute, (sid, cwd) in enumerate(cwds.items()):
        await registry.put(SessionRecord(sid, spec={"cwd": cwd, "model": None}, created_at=T0, last_activity=T0 + timedelta(minutes=minute)))
    assert [r.session_id for r in await registry.list(within=["/w", "/s"])] == ["f", "b", "a"]  # not /wide, /w_x (LIKE's _)
    assert [r.session_id for r in await registry.list(within=["/w%"])] == ["e"]
    assert await registry.list(within=[]) == []
