"""Registry fixtures, each test once on SQLite (a file) and once on PostgreSQL (a fresh database).

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, database ``test``);
without one those params are skipped with the connection error as the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from claude_agent_server.store import SqlRegistry, default_database_url
from databases import postgres_database

OpenRegistry = Callable[..., Awaitable[SqlRegistry]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file under tmp_path, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield default_database_url(tmp_path / "data")  # the data dir does not exist yet
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def open_registry(database_url: str) -> AsyncIterator[OpenRegistry]:
    """Opens registries on the test's database (``SqlRegistry.open`` keywords); closes them all at the end."""
    opened: list[SqlRegistry] = []

    async def open_(**options: Any) -> SqlRegistry:
        registry = await SqlRegistry.open(database_url, **options)
        opened.append(registry)
        return registry

    yield open_
    for registry in opened:
        await registry.close()


@pytest.fixture
async def registry(open_registry: OpenRegistry) -> SqlRegistry:
    return await open_registry()
