"""Unit fixtures: scripted SDK clients and a manager over a real SQLite registry in a temp dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from claude_agent_server.sessions import ManagerConfig, SessionManager
from claude_agent_server.store import SqlRegistry
from fakes import FakeClients

MakeManager = Callable[..., Awaitable[SessionManager]]


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


@pytest.fixture
async def make_manager(tmp_path: Path, clients: FakeClients) -> AsyncIterator[MakeManager]:
    """``await make_manager(**config)``: a started manager (workspace: tmp_path); every one is shut down after the test."""
    made: list[tuple[SessionManager, SqlRegistry]] = []

    async def make(**config: object) -> SessionManager:
        registry = await SqlRegistry.open(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
        manager = SessionManager(ManagerConfig(workspace=tmp_path, **config), registry, client_factory=clients)  # type: ignore[arg-type]
        made.append((manager, registry))
        await manager.start()
        return manager

    yield make
    for manager, registry in made:
        await manager.shutdown(0)
        await registry.close()


@pytest.fixture
async def manager(make_manager: MakeManager) -> SessionManager:
    return await make_manager(permission_timeout=5)
