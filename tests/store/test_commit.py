"""The writer's batch on a SQLite file runs on the DBAPI connection (``store/prepared.py``):
it must store exactly what the SQLAlchemy transaction it replaces stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from claude_agent_server.store import EventRecord, SessionRecord, SqlRegistry, default_database_url, tables
from claude_agent_server.store.batches import event_row, record_row
from claude_agent_server.store.commit import _write_batch, _write_batch_sqlite
from claude_agent_server.store.prepared import Prepared

NODE = "node-a"
HELD = "0a000000-0000-4000-8000-000000000002"
"""A session whose lease another node holds: the writer leaves its record alone."""


def batch(first_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    when = datetime(2026, 12, 7, 14, 30, 15, 123456, tzinfo=UTC)
    events = [
        event_row(EventRecord(first_id, "0a000000-0000-4000-8000-000000000001", "result", {"text": "héllo \u2603", "n": [1, 2.5, None], "ok": True}, "2026-12-07T14:30:15.123456+00:00")),
        event_row(EventRecord(first_id + 1, None, "session_created", {}, "2026-12-07T14:30:16+00:00", server=True)),
        event_row(EventRecord(first_id, "0a000000-0000-4000-8000-000000000001", "result", {"again": 1}, "2026-12-07T14:30:17+00:00")),  # its id again: skipped
    ]
    records = [
        record_row(SessionRecord(
            "0a000000-0000-4000-8000-000000000001", {"cwd": "/w", "model": None, "tools": ["Bash"]},
            created_at=when, last_activity=when + timedelta(seconds=first_id), title=None, cost_usd=0.0125,
            input_tokens=2**40, agentcore_session_id=None, owner="alice",
        )),
        record_row(SessionRecord(HELD, {}, created_at=when, last_activity=when, title=f"stale {first_id}", state="hibernated")),
    ]
    return events, records


async def stored(tmp_path: Path, name: str, driver: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Write two batches (the second overlapping the first) one way; every row of both tables, raw."""
    registry = await SqlRegistry.open(default_database_url(tmp_path / name))
    lanes = registry._lanes
    held = datetime(2099, 1, 1, tzinfo=UTC)  # the same in both databases
    await lanes.run(lambda conn: conn.execute(insert(tables.leases), [{"session_id": HELD, "node_id": "node-b", "expires_at": held}]), write=True)
    await lanes.run(lambda conn: conn.execute(insert(tables.sessions), [record_row(SessionRecord(HELD, {"mine": "b"}, created_at=held, last_activity=held, title="b's"))]), write=True)
    counts = []
    for first_id in (10, 11):
        events, records = batch(first_id)
        if driver:
            def fail(_conn: Connection) -> int:
                raise AssertionError("a SQLite file runs the DBAPI twin")
            counts.append(await lanes.run(fail, write=True, inline=True, driver=partial(_write_batch_sqlite, events, records, node_id=NODE)))
        else:
            counts.append(await lanes.run(partial(_write_batch, events, records, node_id=NODE), write=True))
    await registry.close()
    with sqlite3.connect(tmp_path / name / "registry.db") as db:
        rows = {table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in ("events", "sessions")}
    return rows | {"counts": [tuple(counts)]}


async def test_the_dbapi_batch_stores_what_the_sqlalchemy_batch_stores(tmp_path: Path) -> None:
    through_sqlalchemy = await stored(tmp_path, "sa", driver=False)
    through_dbapi = await stored(tmp_path, "dbapi", driver=True)
    assert through_dbapi == through_sqlalchemy
    assert through_dbapi["counts"] == [(2, 1)]  # inserted events: the repeated id skipped, within and across batches
    sessions = {row[0]: row for row in through_dbapi["sessions"]}
    assert "b's" in sessions[HELD] and "alice" in sessions["0a000000-0000-4000-8000-000000000001"]  # the held record left alone


def test_a_prepared_statement_is_for_sqlite_only() -> None:
    from sqlalchemy.dialects import postgresql

    with pytest.raises(ValueError, match="SQLite"):
        Prepared.of(insert(tables.events), postgresql.dialect())


def test_a_row_missing_a_column_is_refused() -> None:
    from sqlalchemy.dialects import sqlite

    prepared = Prepared.of(insert(tables.events), sqlite.dialect())
    with pytest.raises(KeyError):
        prepared.parameters({"id": 1})
