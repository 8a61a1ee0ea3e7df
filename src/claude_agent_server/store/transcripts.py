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
lines, fold them into the summary. Reads use plain transactions. The SDK waits
for appends before it hands over a turn's ``result``; the registry puts a
:class:`~.write_behind.WriteBehindStore` in front to keep them off that path.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import partial
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
from sqlalchemy import ColumnElement, case, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .dialects import insert
from .engine import writing
from .tables import transcript_entries, transcripts

T = TypeVar("T")
Run = Callable[..., Awaitable[Any]]
"""``await run(work, write=False)``: ``work(connection)`` in one transaction, its result."""

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

    async def _run_on_engine(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
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
            await self._run(partial(_append, key, _unique(entries)), write=True)

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
    subpath = key.get("subpath") or MAIN
    upsert = insert(conn.dialect, transcripts).values(
        project_key=key["project_key"],
        session_id=key["session_id"],
        subpath=subpath,
        mtime=time.time_ns() // 1_000_000,
        summary=None,
    )
    newer = case((transcripts.c.mtime >= upsert.excluded.mtime, transcripts.c.mtime + 1), else_=upsert.excluded.mtime)
    upsert = upsert.on_conflict_do_update(
        index_elements=["project_key", "session_id", "subpath"], set_={"mtime": newer}
    ).returning(transcripts.c.id, transcripts.c.mtime, transcripts.c.summary)
    transcript = conn.execute(upsert).one()

    add = insert(conn.dialect, transcript_entries).on_conflict_do_nothing().returning(transcript_entries.c.uuid)
    params = [{"transcript_id": transcript.id, "uuid": uuid, "entry": entry} for uuid, entry in rows]
    added = set(conn.execute(add, params).scalars())  # uuids of the lines inserted (None: lines without)
    if subpath != MAIN:
        return  # subagents' lines do not count in the session's summary
    new = [entry for uuid, entry in rows if uuid is None or uuid in added]
    if not new:
        return
    prev: SessionSummaryEntry | None = None
    if transcript.summary is not None:
        prev = {"session_id": key["session_id"], "mtime": transcript.mtime, "data": transcript.summary}
    folded = fold_session_summary(prev, key, new)
    if folded["data"] != transcript.summary:
        conn.execute(update(transcripts).where(transcripts.c.id == transcript.id).values(summary=folded["data"]))


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
