"""The engine: SQLite connection settings, its transaction modes, a memory database shared safely."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event

from claude_agent_server.store import EventRecord, SessionRecord, SqlRegistry, default_database_url
from claude_agent_server.store.engine import make_engine, writing


async def test_sqlite_file_settings_and_begin_modes(tmp_path: Path) -> None:
    url = default_database_url(tmp_path / "new" / "dir")
    assert url == f"sqlite+aiosqlite:///{tmp_path}/new/dir/registry.db"
    engine = make_engine(url)
    begins: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: begins.append(args[2]))
    try:
        async with engine.connect() as conn:
            names = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            pragmas = [(await conn.exec_driver_sql(f"PRAGMA {name}")).scalar() for name in names]
        async with writing(engine).begin() as conn:
            await conn.exec_driver_sql("SELECT 1")
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 1, 1, 5000]  # synchronous 1 = NORMAL
    assert [sql for sql in begins if sql.startswith("BEGIN")] == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]
    assert (tmp_path / "new" / "dir" / "registry.db").exists()


async def test_a_memory_database_is_one_connection_shared_in_turn() -> None:
    registry = await SqlRegistry.open("sqlite+aiosqlite:///:memory:")
    try:
        for n in range(1, 1001):
            registry.append(EventRecord(n, "s", "message", {"n": n}, "2025-03-01T12:00:00+00:00"))
        await asyncio.gather(
            registry.flush(),
            registry.put(SessionRecord("s", spec={})),
            *(registry.events(session_id="s", after=0) for _ in range(5)),
        )
        assert await registry.last_event_id() == 1000
        assert await registry.get("s") is not None
    finally:
        await registry.close()


async def test_plain_urls_get_the_async_drivers(tmp_path: Path) -> None:
    for url, driver in [(f"sqlite:///{tmp_path}/r.db", "aiosqlite"), ("postgresql://u@127.0.0.1/db", "asyncpg")]:
        engine = make_engine(url)
        assert engine.dialect.driver == driver
        await engine.dispose()
