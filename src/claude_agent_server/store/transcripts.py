"""``SqlTranscriptStore``: the Claude Agent SDK's ``SessionStore`` in the registry's database.

The contract is the SDK's own (``claude_agent_sdk.types.SessionStore``, checked by
``claude_agent_sdk.testing.run_session_store_conformance``). With
``ClaudeAgentOptions(session_store=store)`` the SDK passes every transcript line
its CLI writes to :meth:`SqlTranscriptStore.append`, and a ``resume`` loads the
transcript with :meth:`SqlTranscriptStore.load` into a temporary config dir, so a
session can continue on a machine whose disk never saw it.

Two tables (see :mod:`.tables`): ``transcripts``, one row per key
(``project_key``, ``session_id``, ``subpath``; ``""`` for the main transcript)
with its ``mtime`` and the SDK's folded summary, and ``transcript_entries``, one
row per line, ordered by an autoincrement ``id``, unique per transcript on the
entry's ``uuid`` (lines without one are never deduplicated). Entries are kept as
JSON text, never parsed by the database.

Each append is one short write transaction (``BEGIN IMMEDIATE`` on SQLite; in the
registry's store, on the registry's one writer connection): upsert the key row (which
locks it, so appends to one transcript are serialised on PostgreSQL too), insert the new
lines, fold them into the summary (on a SQLite file in the registry's lanes, the same
statements run on the DBAPI connection: :func:`_append_sqlite`). Reads use plain
transactions. The SDK waits for appends before it hands over a turn's ``result``; the registry puts a
:class:`~.write_behind.WriteBehindStore` in front to keep them off that path.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from functools import cache, partial
from typing import Any, NamedTuple, TypeVar

from claude_agent_sdk import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
    fold_session_summary,
)
from sqlalchemy import ColumnElement, bindparam, case, delete, select, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert, Update

from .dialects import insert
from .engine import writing
from .prepared import Prepared
from .tables import transcript_entries, transcripts

T = TypeVar("T")
Run = Callable[..., Awaitable[Any]]
"""``await run(work, write=False, driver=None)``: ``work(connection)`` in one transaction, its
result (``driver``: the same for SQLite's DBAPI connection, see :mod:`.lanes`)."""

MAIN = ""
"""The ``subpath`` column of a session's main transcript (keys without ``subpath``)."""


class SqlTranscriptStore(SessionStore):
    """Transcripts of the SDK's sessions in SQLite or PostgreSQL (the registry's engine).

    :attr:`~.registry.SqlRegistry.transcripts` is one on the registry's engine,
    behind a :class:`~.write_behind.WriteBehindStore`, whose transactions run in the
    registry's lanes (:mod:`.lanes`): on a SQLite file, each append is one thread hop
    through the registry's single writer connection, so appends and the registry's
    batches never wait for each other's lock. Use a store on the event loop that made
    its engine (asyncpg connections belong to one loop).

    Args:
        engine: An engine from :func:`~.engine.make_engine` whose schema is migrated.
        run: Runs a transaction's body, ``await run(work, write=...)`` (the registry's
            :meth:`.lanes.Lanes.run`); default: on ``engine`` itself, through ``run_sync``.
    """

    def __init__(self, engine: AsyncEngine, run: Run | None = None) -> None:
        self._engine = engine
        self._writes = writing(engine)
        self._run = run or self._run_on_engine

    async def _run_on_engine(self, work: Callable[[Connection], T], *, write: bool = False, driver: object = None) -> T:
        async with (self._writes.begin() if write else self._engine.connect()) as conn:
            return await conn.run_sync(work)

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Add ``entries`` at the end of the transcript ``key``, in one transaction.

        An entry whose ``uuid`` (a string) the transcript already holds, or that
        came earlier in the same call, is skipped; entries without one are always
        added. The key's ``mtime`` becomes now (Unix ms), and at least its previous
        value + 1. For a main transcript the newly added entries are folded into
        its summary with the SDK's ``fold_session_summary``. An empty list does nothing.

        Raises:
            sqlalchemy.exc.StatementError: An entry holds something JSON cannot represent.
            sqlalchemy.exc.DBAPIError: The database refused the write (nothing of it is kept).
        """
        if entries:
            rows = _unique(entries)
            await self._run(partial(_append, key, rows), write=True, driver=partial(_append_sqlite, key, rows))

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """The transcript's entries in append order, or None if it has none (never written, or deleted)."""
        query = (
            select(transcript_entries.c.entry)
            .join(transcripts, transcripts.c.id == transcript_entries.c.transcript_id)
            .where(*_is_key(key["project_key"], key["session_id"], key.get("subpath") or MAIN))
            .order_by(transcript_entries.c.id)
        )
        entries = await self._run(lambda conn: list(conn.scalars(query).all()))
        return entries or None

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        """``[{"session_id", "mtime"}]`` of the project's main transcripts (mtime: Unix ms of the last append), unordered."""
        query = select(transcripts.c.session_id, transcripts.c.mtime).where(
            transcripts.c.project_key == project_key, transcripts.c.subpath == MAIN
        )
        rows = await self._run(lambda conn: conn.execute(query).all())
        return [{"session_id": row.session_id, "mtime": row.mtime} for row in rows]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        """``[{"session_id", "mtime", "data"}]`` of the project's main transcripts, in one query.

        ``mtime`` is the same column :meth:`list_sessions` reports, so a summary is
        never older than its session; ``data`` is the SDK's fold, as it was stored.
        """
        query = select(transcripts.c.session_id, transcripts.c.mtime, transcripts.c.summary).where(
            transcripts.c.project_key == project_key,
            transcripts.c.subpath == MAIN,
            transcripts.c.summary.is_not(None),
        )
        rows = await self._run(lambda conn: conn.execute(query).all())
        return [{"session_id": row.session_id, "mtime": row.mtime, "data": row.summary} for row in rows]

    async def locate(self, session_id: str | None = None) -> list[TranscriptPlace]:
        """Where main transcripts are: ``(project_key, session_id, cwd)`` of each (of one
        session id when given; a session resumed from another directory has one per
        project), ``cwd`` as the SDK's summary recorded it (None before any line had one).

        Not part of the SDK's protocol: the server finds a session by id alone with it
        (``resume_session_id`` without a ``cwd``) and lists every project's sessions.
        """
        query = select(transcripts.c.project_key, transcripts.c.session_id, transcripts.c.summary).where(
            transcripts.c.subpath == MAIN
        )
        if session_id is not None:
            query = query.where(transcripts.c.session_id == session_id)
        rows = await self._run(lambda conn: conn.execute(query).all())
        return [TranscriptPlace(row.project_key, row.session_id, _cwd(row.summary)) for row in rows]

    async def delete(self, key: SessionKey) -> None:
        """Remove a transcript: with a ``subpath`` that one alone, without it the
        session's main transcript and all its subpaths. Nothing happens for an unknown key.

        Raises:
            sqlalchemy.exc.DBAPIError: The database refused the write (nothing is removed).
        """
        where = _is_key(key["project_key"], key["session_id"], key.get("subpath") or None)

        def remove(conn: Connection) -> None:
            ids = select(transcripts.c.id).where(*where).scalar_subquery()
            conn.execute(delete(transcript_entries).where(transcript_entries.c.transcript_id.in_(ids)))
            conn.execute(delete(transcripts).where(*where))

        await self._run(remove, write=True)

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        """The subpaths under a session (``"subagents/agent-<id>"``, ...), sorted; never the main transcript."""
        query = (
            select(transcripts.c.subpath)
            .where(*_is_key(key["project_key"], key["session_id"], None), transcripts.c.subpath != MAIN)
            .order_by(transcripts.c.subpath)
        )
        return await self._run(lambda conn: list(conn.scalars(query).all()))


def _append(key: SessionKey, rows: list[tuple[str | None, Any]], conn: Connection) -> None:
    """:meth:`SqlTranscriptStore.append`'s transaction: the key row upserted (which locks it, so
    appends to one transcript are serialised on PostgreSQL too), the new lines inserted, folded."""
    upsert, add, _ = _statements(conn.dialect)
    transcript = conn.execute(upsert, _key_row(key)).one()
    params = [{"transcript_id": transcript.id, "uuid": uuid, "entry": entry} for uuid, entry in rows]
    added = set(conn.execute(add, params).scalars())  # uuids of the lines inserted (None: lines without)
    summary = _folded(key, rows, added, transcript.mtime, transcript.summary)
    if summary is not None:
        conn.execute(update(transcripts).where(transcripts.c.id == transcript.id).values(summary=summary))


def _append_sqlite(key: SessionKey, rows: list[tuple[str | None, Any]], db: sqlite3.Connection, dialect: Dialect) -> None:
    """:func:`_append` on SQLite's DBAPI connection (inside the lane's ``BEGIN IMMEDIATE``)."""
    upsert, add, set_summary, read_summary = _prepared(dialect)
    [(transcript_id, mtime, summary)] = upsert.execute(db, _key_row(key))
    added = set()  # uuids of the lines inserted (None: lines without)
    for uuid, entry in rows:
        added.update(uuid for (uuid,) in add.execute(db, {"transcript_id": transcript_id, "uuid": uuid, "entry": entry}))
    folded = _folded(key, rows, added, mtime, read_summary(summary))
    if folded is not None:
        set_summary.execute(db, {"row_id": transcript_id, "new_summary": folded})


def _key_row(key: SessionKey) -> dict[str, Any]:
    """The ``transcripts`` row an append upserts: the key, its ``mtime`` now (Unix ms)."""
    return {
        "project_key": key["project_key"], "session_id": key["session_id"], "subpath": key.get("subpath") or MAIN,
        "mtime": time.time_ns() // 1_000_000, "summary": None,
    }


def _folded(key: SessionKey, rows: list[tuple[str | None, Any]], added: set[str | None], mtime: int, summary: Any) -> Any:
    """The main transcript's new summary once the ``added`` lines are in (the SDK's fold); None
    when it stays as it is (a subagent's lines do not count, nothing new, or the same fold)."""
    if key.get("subpath"):
        return None
    new = [entry for uuid, entry in rows if uuid is None or uuid in added]
    if not new:
        return None
    prev: SessionSummaryEntry | None = None
    if summary is not None:
        prev = {"session_id": key["session_id"], "mtime": mtime, "data": summary}
    folded = fold_session_summary(prev, key, new)["data"]
    return None if folded == summary else folded


@cache
def _statements(dialect: Dialect) -> tuple[Insert, Insert, Update]:
    """An append's statements: upsert the key row (``mtime`` at least the last one + 1; returns
    its id, mtime and summary), add a line unless its uuid is there (returns the uuid), set the summary."""
    upsert = insert(dialect, transcripts)
    newer = case((transcripts.c.mtime >= upsert.excluded.mtime, transcripts.c.mtime + 1), else_=upsert.excluded.mtime)
    upsert = upsert.on_conflict_do_update(
        index_elements=["project_key", "session_id", "subpath"], set_={"mtime": newer}
    ).returning(transcripts.c.id, transcripts.c.mtime, transcripts.c.summary)
    add = insert(dialect, transcript_entries).on_conflict_do_nothing().returning(transcript_entries.c.uuid)
    summary = update(transcripts).where(transcripts.c.id == bindparam("row_id")).values(summary=bindparam("new_summary"))
    return upsert, add, summary


@cache
def _prepared(dialect: Dialect) -> tuple[Prepared, Prepared, Prepared, Callable[[Any], Any]]:
    """:func:`_statements` for SQLite's DBAPI connection, and how to read the summary it returns."""
    upsert, add, summary = _statements(dialect)
    read = transcripts.c.summary.type.result_processor(dialect, None) or (lambda value: value)
    return (
        Prepared.of(upsert, dialect, ["project_key", "session_id", "subpath", "mtime", "summary"]),
        Prepared.of(add, dialect, ["transcript_id", "uuid", "entry"]),
        Prepared.of(summary, dialect, ["row_id", "new_summary"]),
        read,
    )


class TranscriptPlace(NamedTuple):
    """A main transcript's key and the directory its session ran in (see :meth:`SqlTranscriptStore.locate`)."""

    project_key: str
    session_id: str
    cwd: str | None


def _cwd(summary: Any) -> str | None:
    cwd = summary.get("cwd") if isinstance(summary, dict) else None
    return cwd if isinstance(cwd, str) and cwd else None


def _is_key(project_key: str, session_id: str, subpath: str | None) -> list[ColumnElement[bool]]:
    """Conditions on ``transcripts`` for one key, or for every subpath of a session when ``subpath`` is None."""
    where = [transcripts.c.project_key == project_key, transcripts.c.session_id == session_id]
    if subpath is not None:
        where.append(transcripts.c.subpath == subpath)
    return where


def _unique(entries: list[SessionStoreEntry]) -> list[tuple[str | None, Any]]:
    """``(uuid, entry)`` pairs in order, without a second entry with a uuid already seen; uuid None when absent."""
    seen: set[str] = set()
    rows: list[tuple[str | None, Any]] = []
    for entry in entries:
        uuid = entry.get("uuid")
        if not isinstance(uuid, str):
            rows.append((None, entry))
        elif uuid not in seen:
            seen.add(uuid)
            rows.append((uuid, entry))
    return rows
