"""The registry writer's transaction: a batch of new events and record snapshots in one
commit, and the commit function the :class:`~.writer.Writer` calls.

The transaction exists twice: through SQLAlchemy (:func:`_write_batch`, every dialect) and on
SQLite's DBAPI connection (:func:`_write_batch_sqlite`, statements :class:`~.prepared.Prepared`
from the same SQLAlchemy statements), which a SQLite file's lanes run instead: it is the commit
a turn's reply waits for, and SQLAlchemy's execution machinery was most of its time
(``tests/store/test_commit.py`` checks that both store the same rows).
"""

from __future__ import annotations

import sqlite3
from functools import cache, partial

from sqlalchemy import func, literal, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.dml import Insert

from . import tables
from .batches import Commit
from .dialects import insert, insert_ignoring, upsert
from .feed import EVENTS_CHANNEL
from .lanes import Lanes
from .prepared import Prepared
from .spill import Row

__all__ = ["INLINE_ROWS", "committer"]

INLINE_ROWS = 32
"""Rows of a writer's batch, at most, for it to be committed on the event loop (see :mod:`.lanes`)."""


def _write_batch(event_rows: list[Row], record_rows: list[Row], conn: Connection, node_id: str | None = None) -> int:
    """The writer's transaction: new events (ids already present skipped), then the
    newest snapshot of each session (with ``node_id``: unless another node holds the session's
    lease, see :func:`_records_upsert`); ``SELECT 1`` when there is nothing to write (a probe)."""
    if not event_rows and not record_rows:
        conn.execute(select(literal(1)))
        return 0
    inserted = 0
    if event_rows:  # insertmanyvalues splits the rows under the driver's bind-parameter limit
        inserted = len(conn.execute(insert_ignoring(conn.dialect, tables.events), event_rows).all())
    if record_rows:
        records = upsert(conn.dialect, tables.sessions, ["session_id"]) if node_id is None else _records_upsert(conn.dialect, node_id)
        conn.execute(records, record_rows)
    if inserted and node_id is not None and conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_notify(EVENTS_CHANNEL, node_id)))  # delivered at commit (see .feed)
    return inserted


def _write_batch_sqlite(event_rows: list[Row], record_rows: list[Row], db: sqlite3.Connection, dialect: Dialect, node_id: str | None = None) -> int:
    """:func:`_write_batch` on SQLite's DBAPI connection (inside the lane's ``BEGIN IMMEDIATE``)."""
    if not event_rows and not record_rows:
        db.execute("SELECT 1").fetchall()
        return 0
    events, records = _prepared(dialect, node_id)
    inserted = events.executemany(db, event_rows) if event_rows else 0
    if record_rows:
        records.executemany(db, record_rows)
    return inserted


@cache
def _prepared(dialect: Dialect, node_id: str | None) -> tuple[Prepared, Prepared]:
    """The batch's two statements for SQLite: events (ids present skipped) and the records' upsert."""
    events = insert(dialect, tables.events).on_conflict_do_nothing()
    records = upsert(dialect, tables.sessions, ["session_id"]) if node_id is None else _records_upsert(dialect, node_id)
    return Prepared.of(events, dialect), Prepared.of(records, dialect)


@cache
def _records_upsert(dialect: Dialect, node_id: str) -> Insert:
    """The writer's upsert of records, leaving alone a record whose session's lease another node
    holds: that node owns the record now (this node stalled, and what it queued before is stale;
    see ``sessions/cluster.py``)."""
    stmt = insert(dialect, tables.sessions)
    held_elsewhere = (
        select(tables.leases.c.session_id)
        .where(tables.leases.c.session_id == stmt.excluded.session_id, tables.leases.c.node_id != node_id)
        .exists()
    )
    columns = {c.name: stmt.excluded[c.name] for c in tables.sessions.columns if c.name != "session_id"}
    return stmt.on_conflict_do_update(index_elements=["session_id"], set_=columns, where=~held_elsewhere)


def committer(lanes: Lanes, node_id: str | None = None) -> Commit:
    """The writer's commit: :func:`_write_batch` in one write transaction (on a SQLite file
    :func:`_write_batch_sqlite` in ``BEGIN IMMEDIATE``); a batch of at most :data:`INLINE_ROWS`
    rows (a turn's) runs inline when it can (see :mod:`.lanes`)."""

    async def commit(event_rows: list[Row], record_rows: list[Row]) -> int:
        work = partial(_write_batch, event_rows, record_rows, node_id=node_id)
        driver = partial(_write_batch_sqlite, event_rows, record_rows, node_id=node_id)
        return await lanes.run(work, write=True, inline=len(event_rows) + len(record_rows) <= INLINE_ROWS, driver=driver)

    return commit
