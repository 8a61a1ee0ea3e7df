"""The engine: SQLite connection settings, its transaction modes, a memory database shared safely, a file's lanes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import OperationalError

from claude_agent_server.store import EventRecord, SessionRecord, SqlRegistry, default_database_url
from claude_agent_server.store.engine import make_engine, writing
from claude_agent_server.store import lanes as lanes_module
from claude_agent_server.store.lanes import Lanes


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


async def test_a_sqlite_file_runs_each_transaction_whole_in_its_lane(tmp_path: Path) -> None:
    """Writes: one thread, BEGIN IMMEDIATE, the pragmas; reads: other threads; a failing body rolls back."""
    engine = make_engine(default_database_url(tmp_path))
    lanes = Lanes(engine)
    try:
        await lanes.run(lambda conn: conn.exec_driver_sql("CREATE TABLE t (n INTEGER)"), write=True)

        def write(conn: Connection) -> tuple[str, object]:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            return threading.current_thread().name, conn.exec_driver_sql("PRAGMA journal_mode").scalar()

        writers = {await lanes.run(write, write=True) for _ in range(5)}
        assert len(writers) == 1 and next(iter(writers))[0].startswith("registry-write")
        assert next(iter(writers))[1] == "wal"

        def fail(conn: Connection) -> None:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            raise ValueError("refused")

        with pytest.raises(ValueError):
            await lanes.run(fail, write=True)
        reader = await lanes.run(lambda conn: (threading.current_thread().name, conn.exec_driver_sql("SELECT count(*) FROM t").scalar()))
        assert reader[0].startswith("registry-read") and reader[1] == 5  # the failed insert was rolled back
    finally:
        await lanes.close()
        await engine.dispose()


async def test_postgresql_replaces_a_pooled_connection_the_server_closed_and_reads_in_one_round_trip() -> None:
    """No ping before each transaction (three round trips), yet a connection the server closed
    (a restart, ``pg_terminate_backend``) is never handed out; a single-statement read sends
    no ``BEGIN``/``ROLLBACK``."""
    from sqlalchemy import text

    from databases import postgres_database

    async with postgres_database() as url:
        engine = make_engine(url)
        lanes = Lanes(engine)
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        pings: list[object] = []
        ping = engine.dialect.do_ping
        engine.dialect.do_ping = lambda dbapi_connection: pings.append(dbapi_connection) or ping(dbapi_connection)  # type: ignore[method-assign]
        try:
            pid = await lanes.run(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar())
            killer = make_engine(url)
            try:
                async with killer.connect() as conn:
                    assert (await conn.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))).scalar()
            finally:
                await killer.dispose()
            await asyncio.sleep(0.3)  # the closed socket reaches the pooled connection
            statements.clear()
            new_pid = await lanes.run(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar(), single=True)
            assert new_pid != pid
            assert statements == ["SELECT pg_backend_pid()"]
            assert pings == []  # no ping (BEGIN, a statement, ROLLBACK) before a transaction
            def in_transaction(conn: Connection) -> bool:
                conn.execute(text("SELECT 1"))
                return conn.connection.driver_connection.is_in_transaction()  # asyncpg's own view: BEGIN sent or not

            assert await lanes.run(in_transaction, single=True) is False
            assert await lanes.run(in_transaction) is True  # a plain read keeps its transaction
        finally:
            await lanes.close()
            await engine.dispose()


async def test_a_small_write_runs_inline_when_the_write_thread_is_idle_and_waits_its_turn_otherwise(tmp_path: Path) -> None:
    """``inline``: on the event loop's own thread (no hop) while nothing waits in the write thread;
    behind a write the thread holds (order kept), or another connection holding SQLite's lock, it
    goes to the write thread and waits there instead of failing."""
    engine = make_engine(default_database_url(tmp_path))
    lanes = Lanes(engine)
    try:
        await lanes.run(lambda conn: conn.exec_driver_sql("CREATE TABLE t (n INTEGER)"), write=True)

        def insert(n: int) -> Callable[[Connection], str]:
            def work(conn: Connection) -> str:
                conn.exec_driver_sql(f"INSERT INTO t VALUES ({n})")
                return threading.current_thread().name

            return work

        def driver(n: int) -> Callable[[sqlite3.Connection, Dialect], str]:
            def work(db: sqlite3.Connection, dialect: Dialect) -> str:
                assert dialect.name == "sqlite" and db.in_transaction
                db.execute("INSERT INTO t VALUES (?)", (n,))
                return threading.current_thread().name

            return work

        def small(n: int) -> Awaitable[str]:  # a write asked to run inline, with its DBAPI twin
            return lanes.run(insert(n), write=True, inline=True, driver=driver(n))

        assert await small(1) == threading.current_thread().name
        assert (await lanes.run(insert(2), write=True)).startswith("registry-write")  # not asked: the thread
        assert (await lanes.run(insert(20), write=True, inline=True)).startswith("registry-write")  # no DBAPI twin: the thread

        release = threading.Event()

        def held(conn: Connection) -> str:
            assert release.wait(10)
            return insert(3)(conn)

        first = asyncio.ensure_future(lanes.run(held, write=True))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(small(4))
        await asyncio.sleep(0.05)
        assert not second.done()  # behind the held write, not beside it
        release.set()
        assert (await second).startswith("registry-write") and (await first).startswith("registry-write")

        other = sqlite3.connect(tmp_path / "registry.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's write lock
        late = asyncio.ensure_future(small(5))
        await asyncio.sleep(0.1)
        assert not late.done()
        other.execute("ROLLBACK")
        assert (await late).startswith("registry-write")
        other.close()
        assert await small(6) == threading.current_thread().name  # usable again

        def half_done(db: sqlite3.Connection, _dialect: Dialect) -> None:
            db.execute("INSERT INTO t VALUES (7)")
            db.execute("INSERT INTO nowhere VALUES (1)")

        with pytest.raises(OperationalError, match="no such table"):  # the DBAPI's error as SQLAlchemy's...
            await lanes.run(insert(7), write=True, inline=True, driver=half_done)
        await small(8)  # ...and the 7 rolled back
        rows = await lanes.run(lambda conn: [n for (n,) in conn.exec_driver_sql("SELECT n FROM t ORDER BY rowid")])
        assert rows == [1, 2, 20, 3, 4, 5, 6, 8]
    finally:
        await lanes.close()
        await engine.dispose()


async def test_inline_writes_leave_the_wal_checkpoints_to_the_write_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inline connection never checkpoints (that writes and syncs the database file on the event
    loop); every ``CHECKPOINT_EVERY`` inline commits the write thread copies the WAL into the file."""
    monkeypatch.setattr(lanes_module, "CHECKPOINT_EVERY", 5)
    engine = make_engine(default_database_url(tmp_path))
    lanes = Lanes(engine)
    database = tmp_path / "registry.db"
    blob = "x" * 50_000
    try:
        await lanes.run(lambda conn: conn.exec_driver_sql("CREATE TABLE t (s TEXT)"), write=True)
        with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as other:
            assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # the table in the file
        size = database.stat().st_size

        async def insert() -> None:
            await lanes.run(
                lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (:s)", {"s": blob}), write=True, inline=True,
                driver=lambda db, _: db.execute("INSERT INTO t VALUES (?)", (blob,)) and None,
            )

        for _ in range(4):
            await insert()
        await lanes.run(lambda conn: None, write=True)  # whatever the write thread was given is done
        assert database.stat().st_size == size  # all of it still in the WAL
        await insert()
        await lanes.run(lambda conn: None, write=True)
        assert database.stat().st_size > size + 4 * len(blob)  # the fifth commit handed a checkpoint over
    finally:
        await lanes.close()
        await engine.dispose()
