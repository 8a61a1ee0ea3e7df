"""Fresh PostgreSQL databases for tests (the server on 127.0.0.1:5432, trust auth).

Without a reachable server the caller is skipped, with the connection error as the reason.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import pytest

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_USERS = ("postgres", "root")


async def _admin() -> tuple[asyncpg.Connection, str]:
    """A connection to the ``test`` database and the user it logged in as; skips without a server."""
    error: Exception | None = None
    for user in PG_USERS:
        try:
            return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database="test", timeout=5), user
        except (OSError, asyncpg.PostgresError) as exc:
            error = exc
    pytest.skip(f"no PostgreSQL on {PG_HOST}:{PG_PORT}: {error!r}")


async def _create() -> str:
    admin, user = await _admin()
    name = f"test_registry_{uuid.uuid4().hex}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{user}@{PG_HOST}:{PG_PORT}/{name}"


async def _drop(url: str) -> None:
    admin, _ = await _admin()
    try:
        await admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new empty database's ``postgresql+asyncpg://`` URL; dropped afterwards."""
    url = await _create()
    try:
        yield url
    finally:
        await _drop(url)


@contextmanager
def postgres_database_sync() -> Iterator[str]:
    """:func:`postgres_database` for synchronous tests."""
    url = asyncio.run(_create())
    try:
        yield url
    finally:
        asyncio.run(_drop(url))
