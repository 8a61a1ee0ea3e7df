"""Registry fixtures, each test once on SQLite (a file) and once on PostgreSQL (a fresh database).

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, database ``test``);
without one those params are skipped with the connection error as the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from claude_agent_server.store import SqlRegistry, default_database_url

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_USERS = ("postgres", "root")

OpenRegistry = Callable[..., Awaitable[SqlRegistry]]


async def _pg_admin() -> tuple[asyncpg.Connection, str]:
    """A connection to the ``test`` database and the user it logged in as; skips without a server."""
    error: Exception | None = None
    for user in PG_USERS:
        try:
            return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database="test", timeout=5), user
        except (OSError, asyncpg.PostgresError) as exc:
            error = exc
    pytest.skip(f"no PostgreSQL on {PG_HOST}:{PG_PORT}: {error!r}")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file under tmp_path, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield default_database_url(tmp_path / "data")  # the data dir does not exist yet
        return
    admin, user = await _pg_admin()
    name = f"test_registry_{uuid.uuid4().hex}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


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
