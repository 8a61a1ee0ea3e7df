"""The SDK's ``SessionStore`` on the registry (``SqlTranscriptStore``, and behind a ``WriteBehindStore``),
on SQLite and PostgreSQL: the SDK's own conformance suite, then what that suite does not pin down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from claude_agent_sdk import SessionStore
from claude_agent_sdk.testing import run_session_store_conformance
from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncEngine

from claude_agent_server.store import EventRecord, RegistryUnavailable, SqlTranscriptStore, WriteBehindStore
from claude_agent_server.store.engine import make_engine
from claude_agent_server.store.lanes import Lanes
from claude_agent_server.store.migrate import upgrade
from claude_agent_server.store.tables import transcript_entries, transcripts
from claude_agent_server.store.transcripts import Run


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlalchemy", "lanes"])
async def run(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[Run | None]:
    """How a store runs its transactions: on the engine through SQLAlchemy, or in the registry's
    lanes (on a SQLite file an append runs its DBAPI twin, ``_append_sqlite``)."""
    if request.param == "sqlalchemy":
        yield None
        return
    lanes = Lanes(engine)
    yield lanes.run
    await lanes.close()


@pytest.mark.parametrize("write_behind", [False, True], ids=["direct", "write-behind"])
async def test_the_sdk_conformance_suite(engine: AsyncEngine, run: Run | None, write_behind: bool) -> None:
    behind: list[WriteBehindStore] = []

    async def fresh() -> SessionStore:
        for store in behind:
            await store.close()
        async with engine.begin() as conn:  # each contract starts from empty tables
            await conn.execute(delete(transcript_entries))
            await conn.execute(delete(transcripts))
        if not write_behind:
            return SqlTranscriptStore(engine, run)
        behind.append(WriteBehindStore(SqlTranscriptStore(engine, run)))
        return behind[-1]

    await run_session_store_conformance(fresh)
    for store in behind:
        await store.close()


KEY = {"project_key": "-work-x", "session_id": "0b7e4a9e-3c52-4d0c-9a43-3f0d2a1c5e10"}


def entry(uuid: str | None, **fields: object) -> dict[str, object]:
    return {"type": "user", **({} if uuid is None else {"uuid": uuid}), **fields}


async def test_a_uuid_is_stored_once_and_lines_without_one_every_time(engine: AsyncEngine, run: Run | None) -> None:
    store = SqlTranscriptStore(engine, run)
    await store.append(KEY, [entry("a", n=1), entry("b", n=2), entry("a", n=99), entry(None, n=3)])
    await store.append(KEY, [entry("b", n=2), entry("c", n=4), entry(None, n=3)])  # a retried batch overlapping the last
    await store.append({**KEY, "subpath": "subagents/agent-1"}, [entry("a", n=5)])  # uuids are per transcript

    assert await store.load(KEY) == [entry("a", n=1), entry("b", n=2), entry(None, n=3), entry("c", n=4), entry(None, n=3)]
    assert await store.load({**KEY, "subpath": "subagents/agent-1"}) == [entry("a", n=5)]


async def test_a_batch_larger_than_one_insert_statement_keeps_its_order(engine: AsyncEngine, run: Run | None) -> None:
    store = SqlTranscriptStore(engine, run)
    batch = [entry(f"u{n}", n=n) for n in range(2500)]  # SQLAlchemy splits inserts at 1000 rows
    await store.append(KEY, batch)
    await store.append(KEY, batch[:10] + [entry("last")])
    assert await store.load(KEY) == [*batch, entry("last")]


async def test_entries_round_trip_what_jsonb_would_refuse(engine: AsyncEngine, run: Run | None) -> None:
    odd = entry("u", text="nul \x00 byte", emoji="🤖 ü", lone="\ud800", big=2**62, nested={"z": 1, "a": [None, 1.5]})
    store = SqlTranscriptStore(engine, run)
    await store.append(KEY, [odd])
    assert await store.load(KEY) == [odd]


async def test_the_summary_folds_each_line_once_and_mtime_always_moves(engine: AsyncEngine, run: Run | None) -> None:
    store = SqlTranscriptStore(engine, run)
    first = entry("u1", timestamp="2026-01-01T00:00:00.000Z", cwd="/work/x", message={"role": "user", "content": "hi"})
    await store.append(KEY, [first, {"type": "last-prompt", "lastPrompt": "one", "uuid": "l1"}])
    await store.append(KEY, [{"type": "last-prompt", "lastPrompt": "two", "uuid": "l2"}])
    mtimes = [(await store.list_sessions(KEY["project_key"]))[0]["mtime"]]
    await store.append(KEY, [{"type": "last-prompt", "lastPrompt": "one", "uuid": "l1"}])  # a late retry of old lines
    mtimes.append((await store.list_sessions(KEY["project_key"]))[0]["mtime"])

    [summary] = await store.list_session_summaries(KEY["project_key"])
    assert summary["session_id"] == KEY["session_id"] and summary["mtime"] == mtimes[-1] > mtimes[0]
    assert summary["data"]["last_prompt"] == "two"  # "one" was already there: not folded again
    assert summary["data"]["first_prompt"] == "hi" and summary["data"]["cwd"] == "/work/x"
    assert summary["data"]["created_at"] == 1767225600000


async def test_concurrent_appends_from_two_engines_lose_nothing(engine: AsyncEngine, open_registry) -> None:
    """Two nodes (engines) append to one session at once while the registry's writer writes events:
    every line lands, each batch stays in one piece, and the summary folds every batch."""
    registry = await open_registry()  # its writer shares the database (on SQLite: the write lock)
    second_engine = make_engine(engine.url.render_as_string(hide_password=False))
    stores = [SqlTranscriptStore(engine), SqlTranscriptStore(second_engine)]
    fields = [{"cwd": "/w"}, {"gitBranch": "main"}, {"customTitle": "t"}, {"aiTitle": "a"}, {"summary": "s"}]
    batches = [
        [entry(f"{n}-{m}", n=n, m=m, **(fields[n] if n < len(fields) and m == 0 else {})) for m in range(3)]
        for n in range(30)
    ]

    async def events() -> None:
        for n in range(1, 301):
            registry.append(EventRecord(n, "s", "message", {"n": n}, "2025-03-01T12:00:00+00:00"))
            if n % 50 == 0:
                await registry.flush()

    try:
        await asyncio.gather(events(), *(stores[n % 2].append(KEY, batch) for n, batch in enumerate(batches)))
    finally:
        await second_engine.dispose()
    loaded = await stores[0].load(KEY)
    assert sorted(loaded, key=lambda e: (e["n"], e["m"])) == [e for batch in batches for e in batch]
    for n in range(0, len(loaded), 3):
        assert [e["m"] for e in loaded[n : n + 3]] == [0, 1, 2] and len({e["n"] for e in loaded[n : n + 3]}) == 1
    [summary] = await stores[0].list_session_summaries(KEY["project_key"])
    assert {k: summary["data"].get(k) for k in ("cwd", "git_branch", "custom_title", "ai_title", "summary_hint")} == {
        "cwd": "/w", "git_branch": "main", "custom_title": "t", "ai_title": "a", "summary_hint": "s"
    }
    assert await registry.last_event_id() == 300


async def test_the_registry_serves_the_store_on_its_own_engine(open_registry) -> None:
    registry = await open_registry()
    assert registry.transcripts is registry.transcripts
    await registry.transcripts.append(KEY, [entry("a")])
    assert await registry.transcripts.load(KEY) == [entry("a")]


async def test_writing_behind_merges_queued_appends_and_reads_wait_for_them(engine: AsyncEngine) -> None:
    writes: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: writes.append(args[2]))
    store, other_node = WriteBehindStore(SqlTranscriptStore(engine)), SqlTranscriptStore(engine)
    for n in range(10):
        await store.append(KEY, [entry(f"u{n}", n=n)])  # no await inside: all is queued before any write
        await store.append({**KEY, "subpath": "subagents/agent-1"}, [entry(f"s{n}")])
    await store.append(KEY, [entry("u10", n=10)])
    assert await other_node.load(KEY) is None  # nothing written yet
    assert await store.load(KEY) == [entry(f"u{n}", n=n) for n in range(11)]  # this one waits for its queue
    assert await other_node.load({**KEY, "subpath": "subagents/agent-1"}) == [entry(f"s{n}") for n in range(10)]
    assert len([sql for sql in writes if sql.startswith("INSERT INTO transcripts ")]) == 2  # one per transcript
    await store.close()


async def test_writing_behind_gives_up_a_write_that_cannot_succeed_and_goes_on(engine: AsyncEngine, caplog) -> None:
    store = WriteBehindStore(SqlTranscriptStore(engine))
    await store.append(KEY, [entry("bad", value={1, 2})])  # a set: not JSON, not retried
    await store.append({**KEY, "session_id": "other"}, [entry("good")])
    await store.flush()
    assert store.failed == 1 and "gave up writing 1 lines" in caplog.text and "retrying" not in caplog.text
    assert await store.load(KEY) is None and await store.load({**KEY, "session_id": "other"}) == [entry("good")]
    await store.close()


async def test_writing_behind_retries_a_failed_write(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    inner = SqlTranscriptStore(engine)
    failures = [ConnectionResetError("the database went away")] * 2

    async def flaky_append(key, entries) -> None:
        if failures:
            raise failures.pop()
        await SqlTranscriptStore.append(inner, key, entries)

    monkeypatch.setattr(inner, "append", flaky_append)
    store = WriteBehindStore(inner, retry_delay=0.01)
    await store.append(KEY, [entry("a")])
    await store.close()  # keeps trying (up to a few seconds)
    assert await inner.load(KEY) == [entry("a")] and store.failed == store.dropped == 0 and not failures


async def test_a_full_queue_makes_the_append_wait_for_the_write(engine: AsyncEngine) -> None:
    store = WriteBehindStore(SqlTranscriptStore(engine), buffer_bytes=100)
    await store.append(KEY, [entry(f"u{n}") for n in range(3)])
    await store.append(KEY, [entry(f"v{n}") for n in range(3)])  # over 100 bytes queued: this append waits for the first
    assert [e["uuid"] for e in await SqlTranscriptStore(engine).load(KEY) or []] == ["u0", "u1", "u2"]
    assert await store.load(KEY) == [entry(f"u{n}") for n in range(3)] + [entry(f"v{n}") for n in range(3)]
    await store.close()


class Outage:
    """An inner store's ``append`` that fails as an unreachable database would while ``down``."""

    def __init__(self, inner: SqlTranscriptStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = False
        self.attempts = 0
        self._inner = inner
        monkeypatch.setattr(inner, "append", self.append)

    async def append(self, key, entries) -> None:
        self.attempts += 1
        if self.down:
            raise ConnectionRefusedError("connection refused")
        await SqlTranscriptStore.append(self._inner, key, entries)

    async def end(self, store: WriteBehindStore) -> None:
        """The database answers again: wait for the store's next retry to write what it kept."""
        self.down = False
        async with asyncio.timeout(10):
            while store.pending_bytes:
                await asyncio.sleep(0.01)


async def test_an_outage_keeps_every_line_in_order_and_reads_refuse_at_once(engine: AsyncEngine, monkeypatch, caplog) -> None:
    inner = SqlTranscriptStore(engine)
    outage = Outage(inner, monkeypatch)
    store = WriteBehindStore(inner, delay=0, retry_delay=0.01)
    sub = {**KEY, "subpath": "subagents/agent-1"}
    await store.append(KEY, [entry("u0")])
    await store.flush()
    outage.down = True
    for n in range(1, 40):
        await store.append(KEY, [entry(f"u{n}")])
        await store.append(sub, [entry(f"s{n}")])
        await asyncio.sleep(0.01)
    started = asyncio.get_running_loop().time()
    with pytest.raises(RegistryUnavailable):
        await store.load(KEY)  # does not wait for the outage to end
    assert asyncio.get_running_loop().time() - started < 0.5
    attempts = outage.attempts
    await asyncio.sleep(0.5)
    assert outage.attempts > attempts  # still retrying (with backoff, not given up)
    await outage.end(store)
    assert await store.load(KEY) == [entry(f"u{n}") for n in range(40)]  # in append order, none twice
    assert await store.load(sub) == [entry(f"s{n}") for n in range(1, 40)]
    assert store.failed == store.dropped == 0 and store.pending_bytes == 0
    assert caplog.text.count("the database cannot be reached") == 1 and "answers again" in caplog.text
    await store.close()


async def test_an_outage_beyond_the_buffer_drops_newer_lines_and_says_so_once(engine: AsyncEngine, monkeypatch, caplog) -> None:
    inner = SqlTranscriptStore(engine)
    outage = Outage(inner, monkeypatch)
    store = WriteBehindStore(inner, delay=0, retry_delay=0.01, buffer_bytes=1000)
    outage.down = True
    for n in range(100):  # ~35 bytes each: the first ~28 fit
        await store.append(KEY, [entry(f"u{n:02}")])
    assert 0 < store.pending_bytes <= 1000 and store.dropped > 50
    assert caplog.text.count("are dropped") == 1
    await outage.end(store)
    kept = [e["uuid"] for e in await store.load(KEY) or []]
    assert kept == [f"u{n:02}" for n in range(len(kept))] and len(kept) + store.dropped == 100  # the oldest, continuous
    assert f"{store.dropped} lines were dropped during the outage" in caplog.text
    await store.close()


async def test_closing_during_an_outage_tries_then_counts_what_is_left(engine: AsyncEngine, monkeypatch, caplog) -> None:
    inner = SqlTranscriptStore(engine)
    outage = Outage(inner, monkeypatch)
    store = WriteBehindStore(inner, delay=0, retry_delay=0.01)
    outage.down = True
    await store.append(KEY, [entry("a"), entry("b")])
    asyncio.get_running_loop().call_later(0.3, setattr, outage, "down", False)  # the database is back before the timeout
    await store.close(timeout=3)
    assert await inner.load(KEY) == [entry("a"), entry("b")] and store.dropped == 0
    store = WriteBehindStore(inner, delay=0, retry_delay=0.01)
    outage.down = True
    await store.append(KEY, [entry("c")])
    await store.close(timeout=0.3)
    assert store.dropped == 1 and "closing with 1 lines not written" in caplog.text
    await store.append(KEY, [entry("d")])  # after close: dropped, logged
    assert store.dropped == 2


async def test_closing_the_registry_writes_the_queued_transcripts(open_registry) -> None:
    registry = await open_registry()
    await registry.transcripts.append(KEY, [entry("a"), entry("b")])
    await registry.close()
    reopened = await open_registry()
    assert await reopened.transcripts.load(KEY) == [entry("a"), entry("b")]


async def test_locate_finds_a_session_by_id_alone_with_the_directory_it_ran_in(engine: AsyncEngine) -> None:
    store = SqlTranscriptStore(engine)
    other = {"project_key": "-work-y", "session_id": KEY["session_id"]}  # the same id resumed in another project
    await store.append(KEY, [entry("a", cwd="/work/x")])
    await store.append(other, [entry("b", cwd="/work/y")])
    await store.append({**KEY, "subpath": "subagents/agent-1"}, [entry("c", cwd="/work/x")])  # never a place of its own
    await store.append({"project_key": "-work-z", "session_id": "11111111-2222-4333-8444-555555555555"}, [entry("d")])
    assert sorted(await store.locate(KEY["session_id"])) == [("-work-x", KEY["session_id"], "/work/x"), ("-work-y", KEY["session_id"], "/work/y")]
    assert len(await store.locate()) == 3 and ("-work-z", "11111111-2222-4333-8444-555555555555", None) in await store.locate()
    assert await store.locate("00000000-0000-4000-8000-000000000000") == []
    behind = WriteBehindStore(SqlTranscriptStore(engine))
    await behind.append(KEY, [entry("e", cwd="/work/x")])
    assert len(await behind.locate(KEY["session_id"])) == 2  # after its own queued appends
    await behind.close()


async def test_appends_are_written_after_a_short_delay_or_at_once_when_awaited(engine: AsyncEngine) -> None:
    store, other_node = WriteBehindStore(SqlTranscriptStore(engine), delay=0.5), SqlTranscriptStore(engine)
    await store.append(KEY, [entry("a")])
    await asyncio.sleep(0.05)
    assert await other_node.load(KEY) is None  # not yet: the turn's reply goes out first
    await store.flush()  # cuts the delay short
    assert await other_node.load(KEY) == [entry("a")]
    await store.append(KEY, [entry("b")])
    await asyncio.sleep(1.0)
    assert await other_node.load(KEY) == [entry("a"), entry("b")]  # written with nobody waiting
    await store.close()
