"""Where a registry transaction runs: one thread hop for a SQLite file, the async driver otherwise.

Through SQLAlchemy's async layer, aiosqlite makes a thread hop for every call of
the DBAPI (BEGIN, each execute, each fetch, COMMIT, the pool's reset): about ten
per transaction, each a wake-up of its thread and then of the event loop, which a
busy machine delays. For a SQLite *file*, :class:`Lanes` instead runs the whole
transaction as one synchronous function in a thread of its own (pysqlite, the
same pragmas and ``BEGIN`` modes as :mod:`.engine`): one hop. Writes go through
one thread and one connection (the registry's single writer and its awaited
writes never contend for SQLite's lock); reads through another pool of threads.

PostgreSQL (asyncpg is natively async) and a ``:memory:`` database (it lives in the
async engine's one connection) run the same function through ``run_sync`` on
the async engine instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import on_sqlite_begin, on_sqlite_connect, writing

T = TypeVar("T")
Work = Callable[[Connection], T]
"""A transaction's body: runs inside ``BEGIN`` … ``COMMIT`` (rolled back if it raises)."""

READ_THREADS = 2
"""Threads (and connections) that serve reads of a SQLite file."""


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

    async def run(self, work: Work[T], *, write: bool = False, single: bool = False) -> T:
        """Run ``work`` in one transaction (``BEGIN IMMEDIATE`` on SQLite when ``write``); its result.

        ``single``: ``work`` is one read-only statement, which is atomic by itself: on PostgreSQL it
        runs without ``BEGIN`` and ``ROLLBACK`` (one round trip instead of three, each a wake-up of
        the database's process; what a request forwarded to another node waits for).

        Raises:
            Exception: Whatever the driver or ``work`` raised (the transaction is rolled back).
        """
        if self._sync is None:
            if single and not write and self._async.url.get_backend_name() == "postgresql":
                async with self._async_single.connect() as conn:
                    return await conn.run_sync(work)
            async with (self._async_writes.begin() if write else self._async.connect()) as conn:
                return await conn.run_sync(work)
        engine = self._sync_writes if write else self._sync
        executor = self._writer if write else self._readers
        return await asyncio.get_running_loop().run_in_executor(executor, partial(_transaction, engine, work))

    async def close(self) -> None:
        """Let running transactions finish, then close the SQLite connections (the async engine is the caller's)."""
        if self._sync is not None:
            await asyncio.to_thread(self._writer.shutdown)
            await asyncio.to_thread(self._readers.shutdown)
            self._sync.dispose()


def _transaction(engine: Engine, work: Work[T]) -> T:
    with engine.begin() as conn:
        return work(conn)
