"""Where a registry transaction runs: one thread hop for a SQLite file, the async driver otherwise.

Through SQLAlchemy's async layer, aiosqlite makes a thread hop for every call of
the DBAPI (BEGIN, each execute, each fetch, COMMIT, the pool's reset): about ten
per transaction, each a wake-up of its thread and then of the event loop, which a
busy machine delays. For a SQLite *file*, :class:`Lanes` instead runs the whole
transaction as one synchronous function in a thread of its own (pysqlite, the
same pragmas and ``BEGIN`` modes as :mod:`.engine`): one hop. Writes go through
one thread and one connection (the registry's single writer and its awaited
writes never contend for SQLite's lock); reads through another pool of threads.

A write may come with a ``driver`` twin: the same transaction written for SQLite's DBAPI
connection (``sqlite3.Connection``), which a SQLite file's lanes run instead of the SQLAlchemy
one: no statement compiling, cache keys or result objects (see :mod:`.prepared`).

A small write asked to run ``inline`` (a writer's batch of a few rows, such as the one a
turn's reply waits for: committed without an fsync under ``synchronous=NORMAL``, a fraction
of a millisecond; it needs a ``driver`` twin) runs on the calling thread instead, on a DBAPI
connection of its own held open, when the write thread has nothing queued or running: no hop
at all, so no wake-up of the write thread and then of the event loop, each of which waits
for a free core on a busy machine. Its connection never waits for
SQLite's lock (``busy_timeout=0``): when another process holds it, the write goes to the
write thread after all. It never checkpoints the WAL either (a checkpoint writes the
database file and syncs it): every :data:`CHECKPOINT_EVERY` inline commits, a passive
checkpoint is handed to the write thread, without waiting for it. Order is kept: an
inline write runs only once every write handed to the thread before it has committed.

PostgreSQL (asyncpg is natively async) and a ``:memory:`` database (it lives in the
async engine's one connection) run the same function through ``run_sync`` on
the async engine instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import on_sqlite_begin, on_sqlite_connect, writing

T = TypeVar("T")
Work = Callable[[Connection], T]
"""A transaction's body: runs inside ``BEGIN`` … ``COMMIT`` (rolled back if it raises)."""
DriverWork = Callable[[sqlite3.Connection, Dialect], T]
"""The same body for a SQLite file, on the DBAPI connection (``work(db, dialect)``): inside
``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if it raises."""

log = logging.getLogger(__name__)

READ_THREADS = 2
"""Threads (and connections) that serve reads of a SQLite file."""
CHECKPOINT_EVERY = 64
"""Inline commits between two passive WAL checkpoints handed to the write thread."""


class Lanes:
    """Runs transactions for one registry database; :meth:`close` when done.

    Args:
        engine: The registry's async engine (its URL picks the lanes).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._async = engine
        self._async_writes = writing(engine)
        self._async_single = engine.execution_options(isolation_level="AUTOCOMMIT")
        url = engine.url
        self._sync: Engine | None = None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._sync = create_engine(url.set(drivername="sqlite+pysqlite"), pool_size=1 + READ_THREADS, max_overflow=0)
            event.listen(self._sync, "connect", on_sqlite_connect)
            event.listen(self._sync, "begin", on_sqlite_begin)
            self._sync_writes = writing(self._sync)
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="registry-write")
            self._readers = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="registry-read")
            self._inline = create_engine(url.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0)
            for listener in (on_sqlite_connect, _never_wait):
                event.listen(self._inline, "connect", listener)
            self._inline_db: PoolProxiedConnection | None = None  # its one connection, checked out at the first inline write and held
            self._handed = 0  # writes handed to the write thread (counted on the loop)...
            self._finished = 0  # ...and those it finished (counted in the thread): idle when equal
            self._inline_commits = 0

    async def run(
        self, work: Work[T], *, write: bool = False, single: bool = False, inline: bool = False, driver: DriverWork[T] | None = None,
    ) -> T:
        """Run ``work`` in one transaction (``BEGIN IMMEDIATE`` on SQLite when ``write``); its result.

        ``single``: ``work`` is one read-only statement, which is atomic by itself: on PostgreSQL it
        runs without ``BEGIN`` and ``ROLLBACK`` (one round trip instead of three, each a wake-up of
        the database's process; what a request forwarded to another node waits for).

        ``driver`` (with ``write``): ``work`` written for SQLite's DBAPI connection, run instead of it
        on a SQLite file.

        ``inline`` (with ``write`` and ``driver``): the write is small; on a SQLite file it runs on
        the calling thread when the write thread is idle and SQLite's lock is free (see the module docstring).

        Raises:
            Exception: Whatever the driver or ``work`` raised (the transaction is rolled back; the
                DBAPI's errors as SQLAlchemy's, e.g. :class:`~sqlalchemy.exc.OperationalError`).
        """
        if self._sync is None:
            if single and not write and self._async.url.get_backend_name() == "postgresql":
                async with self._async_single.connect() as conn:
                    return await conn.run_sync(work)
            async with (self._async_writes.begin() if write else self._async.connect()) as conn:
                return await conn.run_sync(work)
        if not write:
            return await asyncio.get_running_loop().run_in_executor(self._readers, partial(_transaction, self._sync, work))
        if inline and driver is not None and self._handed == self._finished:
            try:
                if self._inline_db is None:
                    self._inline_db = self._inline.raw_connection()
                result = _driver_transaction(self._inline_db.driver_connection, self._inline.dialect, driver)
            except OperationalError as exc:
                if not _lock_taken(exc):
                    raise
            else:
                self._inline_commits += 1
                if self._inline_commits % CHECKPOINT_EVERY == 0:
                    self._writer.submit(_checkpoint, self._sync).add_done_callback(_log_failure)
                return result
        self._handed += 1
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._write, work, driver)

    def _write(self, work: Work[T], driver: DriverWork[T] | None) -> T:
        """In the write thread: the transaction, then counted as finished (whatever its outcome)."""
        try:
            if driver is None:
                return _transaction(self._sync_writes, work)
            with self._sync_writes.begin() as conn:  # BEGIN IMMEDIATE (see .engine), COMMIT or ROLLBACK
                return _driver_errors(driver, conn.connection.driver_connection, conn.dialect)
        finally:
            self._finished += 1

    async def close(self) -> None:
        """Let running transactions finish, then close the SQLite connections (the async engine is the caller's)."""
        if self._sync is not None:
            await asyncio.to_thread(self._writer.shutdown)
            await asyncio.to_thread(self._readers.shutdown)
            if self._inline_db is not None:
                self._inline_db.close()
            self._sync.dispose()
            self._inline.dispose()


def _transaction(engine: Engine, work: Work[T]) -> T:
    with engine.begin() as conn:
        return work(conn)


def _driver_transaction(db: sqlite3.Connection, dialect: Dialect, work: DriverWork[T]) -> T:
    """``work`` inside ``BEGIN IMMEDIATE`` … ``COMMIT`` on a DBAPI connection in autocommit mode
    (see :func:`~.engine.on_sqlite_connect`), rolled back if anything raises."""
    _driver_errors(db.execute, "BEGIN IMMEDIATE")
    try:
        result = _driver_errors(work, db, dialect)
        _driver_errors(db.execute, "COMMIT")
    except BaseException:
        if db.in_transaction:
            db.rollback()
        raise
    return result


def _driver_errors(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)``, raising the DBAPI's errors as SQLAlchemy's (so callers branch on one hierarchy)."""
    try:
        return call(*args)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc


def _never_wait(dbapi_connection: Any, _record: Any) -> None:
    """``connect`` listener of the inline connection: refuse at once when SQLite's lock is taken,
    and leave WAL checkpoints to the write thread."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _lock_taken(exc: OperationalError) -> bool:
    """Whether SQLite refused for a lock another connection holds (``SQLITE_BUSY``/``SQLITE_LOCKED``)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds into the database file, as far as no reader needs it (outside a transaction)."""
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        connection.close()


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.warning("registry: a WAL checkpoint failed: %s", exc)
