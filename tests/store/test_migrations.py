"""Alembic migrations: one head, upgrades keep data, down and up again, models match revisions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from claude_agent_server.store import SessionRecord, SqlTranscriptStore
from claude_agent_server.store.engine import make_engine
from claude_agent_server.store.migrate import config, downgrade, upgrade
from claude_agent_server.store.tables import Base

FIRST = "0001"

# The sessions table as revision 0001 made it (frozen here: the models may move on).
SESSIONS_0001 = sa.table(
    "sessions",
    *map(sa.column, ["session_id", "title", "state", "status", "turns", "cost_usd", "input_tokens", "output_tokens"]),
    sa.column("spec", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("last_activity", sa.DateTime(timezone=True)),
)
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OLD = {
    "session_id": "s-old",
    "spec": {"model": "m"},
    "created_at": AT,
    "last_activity": AT,
    "title": "kept",
    "state": "hibernated",
    "status": "hibernated",
    "turns": 2,
    "cost_usd": 0.5,
    "input_tokens": 10,
    "output_tokens": 20,
}


def test_one_head_and_the_first_revision_is_named() -> None:
    scripts = ScriptDirectory.from_config(config())
    assert len(scripts.get_heads()) == 1
    assert [s.revision for s in scripts.walk_revisions()][-1] == FIRST


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def test_upgrade_from_the_first_revision_keeps_rows(engine: AsyncEngine, open_registry) -> None:
    await upgrade(engine, FIRST)
    async with engine.begin() as conn:
        await conn.execute(sa.insert(SESSIONS_0001), [OLD])
    await upgrade(engine)

    registry = await open_registry()
    assert await registry.get("s-old") == SessionRecord(**OLD)  # origin: the default, "rest"


async def test_downgrade_to_base_then_upgrade_to_head(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await downgrade(engine, "base")
    assert await _tables(engine) == {"alembic_version"}
    await upgrade(engine)
    assert await _tables(engine) == {
        "alembic_version", "sessions", "events", "session_aliases", "transcripts", "transcript_entries", "responses", "parked_permissions",
        "nodes", "session_leases", "users", "api_keys", "audit", "webhook_outbox",
    }


async def test_transcripts_come_and_go_with_their_revision_and_the_registry_keeps_its_rows(
    engine: AsyncEngine, open_registry
) -> None:
    await upgrade(engine, "0002")
    async with engine.begin() as conn:
        await conn.execute(sa.insert(SESSIONS_0001), [OLD])
    await upgrade(engine)
    key = {"project_key": "p", "session_id": "s-old"}
    store = SqlTranscriptStore(engine)
    await store.append(key, [{"type": "user", "uuid": "u1", "n": 1}, {"type": "user", "uuid": "u2", "n": 2}])
    assert await store.load(key) == [{"type": "user", "uuid": "u1", "n": 1}, {"type": "user", "uuid": "u2", "n": 2}]

    await downgrade(engine, "0002")
    assert "transcripts" not in await _tables(engine) and "transcript_entries" not in await _tables(engine)
    await upgrade(engine)
    assert await store.load(key) is None  # the transcripts went with their tables
    await store.append(key, [{"type": "user", "uuid": "u1", "n": 1}])
    assert await store.load(key) == [{"type": "user", "uuid": "u1", "n": 1}]
    registry = await open_registry()
    assert (await registry.get("s-old")).title == "kept"


async def test_models_match_the_migrations(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
