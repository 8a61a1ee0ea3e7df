"""ServerMetrics as an observer of a real SessionManager (scripted SDK clients, SQLite registry)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from claude_agent_server.observability import ServerMetrics
from claude_agent_server.sessions import ManagerConfig, SessionManager
from claude_agent_server.sessions.permissions import PermissionDecision
from claude_agent_server.sessions.turns import turn_events
from claude_agent_server.store import SqlRegistry
from fakes import Ask, FakeClients, Hold, result, text

P = "claude_agent_server_"


Observed = tuple[SessionManager, ServerMetrics, FakeClients]


@pytest.fixture
def warm_sessions() -> int:
    return 0


@pytest.fixture
async def observed(tmp_path: Path, warm_sessions: int) -> AsyncIterator[Observed]:
    clients = FakeClients()
    registry = await SqlRegistry.open(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    config = ManagerConfig(workspace=tmp_path, permission_timeout=5, warm_sessions=warm_sessions)
    manager = SessionManager(config, registry, client_factory=clients)
    metrics = ServerMetrics()
    manager.observers.append(metrics.observe)
    await manager.start()
    try:
        yield manager, metrics, clients
    finally:
        await manager.shutdown(0)
        await registry.close()


async def test_a_session_s_life_in_metrics(observed: Observed, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="claude_agent_server.audit")
    manager, metrics, clients = observed

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(P + name, labels)

    session = await manager.create()
    clients.enqueue(*text("hi"), result("hi"))
    [e async for e in turn_events(session, await session.send("hello"))]
    clients.enqueue(Ask("Bash", {"command": "ls"}), result())
    started = await session.send("list")
    await asyncio.sleep(0.05)
    [pending] = session.permissions.pending()
    session.permissions.respond(pending.request_id, PermissionDecision(allowed=True))
    [e async for e in turn_events(session, started)]
    await manager.hibernate(session.id)
    clients.enqueue(Hold(), result())
    started = await session.send("wake up")  # wakes it
    await asyncio.sleep(0.05)
    await session.interrupt()
    [e async for e in turn_events(session, started)]

    assert sample("cli_start_duration_seconds_count") == 1
    assert sample("wakes_total") == 1 and sample("wake_duration_seconds_count") == 1
    assert sample("hibernations_total") == 1
    assert sample("turns_total", outcome="completed") == 2 and sample("turns_total", outcome="interrupted") == 1
    assert sample("turn_duration_seconds_count", outcome="completed") == 2
    assert sample("time_to_first_token_seconds_count") == 1
    assert sample("permission_requests_total", outcome="allowed") == 1
    assert sample("permission_wait_seconds_count", outcome="allowed") == 1

    await metrics.refresh(manager)
    assert sample("sessions", state="live") == 1 and sample("sessions", state="hibernated") == 0
    assert sample("cli_processes") == 1 and sample("sessions", state="warm") == 0
    await manager.close(session.id)
    await manager.registry.flush()
    await metrics.refresh(manager)
    assert sample("events_persisted_total") == manager.registry.health().persisted > 0

    lines = [r.getMessage() for r in caplog.records if r.name == "claude_agent_server.audit"]
    assert [line.split()[0] for line in lines] == ["turn", "permission", "turn", "turn"]
    assert f"session_id={session.id}" in lines[0] and "outcome=completed" in lines[0]
    # The CLI reports a running total (0.0012 after each turn here): the second turn cost nothing.
    assert "turn_cost_usd=0.0012 session_cost_usd=0.0012" in lines[0]
    assert "turn_cost_usd=0.0 session_cost_usd=0.0012" in lines[2]
    assert "tool_name=Bash allowed=true reason=user" in lines[1]
    assert "outcome=interrupted" in lines[3]


@pytest.mark.parametrize("warm_sessions", [1])
async def test_warm_sessions_are_counted_apart(observed: Observed) -> None:
    manager, metrics, _ = observed
    for _ in range(100):
        if manager.warm_count:
            break
        await asyncio.sleep(0.01)
    await metrics.refresh(manager)
    sample = metrics.registry.get_sample_value
    assert sample(f"{P}sessions", {"state": "warm"}) == 1 and sample(f"{P}sessions", {"state": "live"}) == 0
    assert sample(f"{P}cli_processes") == 1
    assert sample(f"{P}cli_start_duration_seconds_count") == 1
