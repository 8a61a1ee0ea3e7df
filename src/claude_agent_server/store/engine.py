"""The async engine for a registry URL: SQLite (aiosqlite) or PostgreSQL (asyncpg).

A SQLite database file and its ``-wal`` and ``-shm`` files are made 0600 (see
``claude_agent_server.datadir``). SQLite gets WAL, foreign keys, ``synchronous=NORMAL`` and a 5 s busy timeout on
every connection. pysqlite's own implicit BEGIN is turned off and SQLAlchemy's
``begin`` event emits ours instead: ``BEGIN IMMEDIATE`` on the engine returned by
:func:`writing` (the single writer takes the write lock up front, so it never
meets ``database is locked`` half-way through), plain deferred ``BEGIN`` elsewhere.
PostgreSQL connections get a connect and a statement timeout, so an outage is
noticed in bounded time even when the network drops packets instead of refusing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from ..datadir import private_directory, private_file, tighten

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_BEGIN_OPTION = "registry_sqlite_begin"
_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=5000")
CONNECT_TIMEOUT = 10.0
"""Seconds a PostgreSQL connection attempt (or a wait for a pooled connection) may take."""
COMMAND_TIMEOUT = 60.0
"""Seconds a PostgreSQL statement may take."""


def default_database_url(data_dir: Path) -> str:
    """The registry URL for a server whose data lives in ``data_dir``.

    Args:
        data_dir: The server's data directory.

    Returns:
        ``sqlite+aiosqlite:///<data_dir>/registry.db``.
    """
    return f"sqlite+aiosqlite:///{data_dir / 'registry.db'}"


def redacted(url: str) -> str:
    """The URL with its password hidden (for messages and logs); the text itself if it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def make_engine(url: str) -> AsyncEngine:
    """Create the engine for ``url``; the caller disposes of it.

    Args:
        url: ``sqlite+aiosqlite:///<path>`` (``:memory:`` allowed) or
            ``postgresql+asyncpg://user@host:port/db``; plain ``sqlite://`` and
            ``postgresql://`` get those async drivers.

    Returns:
        An engine whose transactions are deferred; use :func:`writing` for writes.

    Raises:
        sqlalchemy.exc.ArgumentError: The URL cannot be parsed.
        sqlalchemy.exc.NoSuchModuleError: The URL names a driver that is not installed.
    """
    parsed = make_url(url)
    parsed = parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))
    if parsed.get_backend_name() != "sqlite":
        # A database that stops answering fails a connection attempt or a statement in bounded time.
        connect_args = {"timeout": CONNECT_TIMEOUT, "command_timeout": COMMAND_TIMEOUT}
        engine = create_async_engine(parsed, pool_timeout=CONNECT_TIMEOUT, connect_args=connect_args)
        event.listen(engine.sync_engine, "checkout", _closed_connection_check)
        return engine
    kwargs: dict[str, Any] = {"paramstyle": "named"}  # aiosqlite once bound qmark params out of order (Prefect #6702)
    if parsed.database in (None, "", ":memory:"):
        # One connection (a memory database dies with it), handed to one user at a time.
        kwargs.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_recycle=-1)
    else:
        _private_database_files(Path(parsed.database))
    engine = create_async_engine(parsed, **kwargs)
    event.listen(engine.sync_engine, "connect", on_sqlite_connect)
    event.listen(engine.sync_engine, "begin", on_sqlite_begin)
    return engine


def _closed_connection_check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """SQLAlchemy ``checkout`` listener (PostgreSQL): a pooled connection the server has closed
    (a restart, an idle timeout, ``pg_terminate_backend``) is replaced before use.

    asyncpg reads every connection's socket all the time, so it knows at once when the server
    hung up; checking that costs no round trip. (SQLAlchemy's ``pool_pre_ping`` pings instead:
    ``BEGIN``, a statement and ``ROLLBACK``, three round trips before every transaction, each a
    wake-up of the database's process.)

    Raises:
        sqlalchemy.exc.DisconnectionError: It is closed (the pool then takes or makes another).
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the database closed this pooled connection")


def _private_database_files(database: Path) -> None:
    """The database file 0600 before SQLite opens it (SQLite gives its ``-wal`` and ``-shm``
    files the database's mode), and those files tightened when they exist with looser modes:
    the registry holds every prompt, tool input and reply."""
    if not database.parent.exists():
        private_directory(database.parent)
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(database.with_name(database.name + suffix))


def writing(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose SQLite transactions start with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy ``connect`` listener: no implicit BEGIN (see :func:`on_sqlite_begin`), and the pragmas."""
    dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN; on_sqlite_begin does
    cursor = dbapi_connection.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def on_sqlite_begin(connection: Connection) -> None:
    """SQLAlchemy ``begin`` listener: ``BEGIN IMMEDIATE`` on an engine from :func:`writing`, else ``BEGIN``."""
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
