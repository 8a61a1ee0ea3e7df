"""Durable sessions on the client side, against a scripted server (httpx.MockTransport):
the registry's fields, the picker's merge, hibernated and waking statuses, /hibernate,
non-contiguous event ids and Retry-After."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from claude_agent_protocol import (
    AvailableSessions,
    CreatedSession,
    ErrorBody,
    HibernateReply,
    SessionCounts,
    SessionEntry,
    SessionHistory,
    SessionList,
    StatusSnapshot,
    WireModel,
)
from claude_agent_protocol import AvailableSession as Transcript
from rich.console import Console

from claude_agent_client import commands, render
from claude_agent_client.api import AgentClient
from claude_agent_client.app import _open_first_session
from claude_agent_client.chat import Chat
from claude_agent_client.config import parse_args
from claude_agent_client.errors import ServerError, error_for_status, parse_retry_after
from claude_agent_client.live import TurnView
from claude_agent_client.picker import merge_sessions, recent_sessions
from claude_agent_client.stream import EventFollower
from claude_agent_client.turn import TurnRunner
from claude_agent_client.wire import AvailableSession, SessionStatusView, read
from claude_agent_client.wire import SessionEntry as Entry
from client.fake_server import BIG_ID, FakeServer, ScriptedInput, events, reply, sse

REGISTRY_ENTRY = SessionEntry(
    session_id="hib", created_at="2026-01-02T10:00:00Z", last_activity="2026-01-02T11:00:00+00:00",
    title="refactor the parser", status="hibernated", state="hibernated", cwd="/w/app", model="m",
    permission_mode="plan", turns=3, cost_usd=0.25, input_tokens=1200, output_tokens=340,
)
COUNTS = SessionCounts(live=0, hibernated=1, warm=0)


def entry(**changes: object) -> Entry:
    """The registry entry with ``changes``, as the client reads it."""
    return read(Entry, REGISTRY_ENTRY.model_copy(update=changes).model_dump())


def console() -> Console:
    return Console(file=io.StringIO(), width=160, no_color=True)


def output(chat_or_console: Chat | Console) -> str:
    target = chat_or_console.console if isinstance(chat_or_console, Chat) else chat_or_console
    return target.file.getvalue()  # type: ignore[attr-defined]


ClientFor = Callable[[FakeServer], AgentClient]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    """``client_for(fake)``: an AgentClient over the fake server's transport (closed afterwards)."""
    opened: list[AgentClient] = []

    def make(fake: FakeServer) -> AgentClient:
        client = AgentClient("http://test", transport=fake.transport)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


# -- models -------------------------------------------------------------------------


def test_registry_entry_and_status_read_with_the_protocol() -> None:
    new = entry()
    assert (new.state, new.status, new.title, new.turns, new.cost_usd, new.input_tokens, new.output_tokens) == (
        "hibernated", "hibernated", "refactor the parser", 3, 0.25, 1200, 340
    )
    transcript = read(AvailableSession, {"session_id": "t", "modified": "", "live": False, "state": "hibernated"})
    assert (transcript.live, transcript.state) == (False, "hibernated")
    assert read(AvailableSession, {"session_id": "t"}).state is None

    status = read(SessionStatusView, {"session_id": "hib", "status": "hibernated", "last_event_id": BIG_ID + 7})
    assert status.hibernated and not status.busy and status.last_event_id == BIG_ID + 7
    assert not read(SessionStatusView, {"session_id": "hib", "status": "waking"}).busy


# -- the picker -----------------------------------------------------------------------


def transcript(session_id: str, modified: str, preview: str = "", **extra: object) -> AvailableSession:
    return read(AvailableSession, {"session_id": session_id, "modified": modified, "preview": preview,
                                   "project": "app", "cwd": "/w/app", **extra})


def test_merge_dedups_marks_and_orders_newest_first() -> None:
    registry = [
        entry(session_id="live", status="running", state="live", title="live title", last_activity="2026-01-02T09:00:00Z"),
        entry(),  # hibernated, 11:00, no transcript row
        entry(session_id="both", title="both title", last_activity="2026-01-02T08:00:00Z"),
    ]
    transcripts = [
        transcript("both", "2026-01-02T12:00:00Z", "the transcript's preview", state="hibernated"),  # newer than the registry
        transcript("closed", "2026-01-02T10:30:00Z", "closed one", state="closed"),
        transcript("disk", "2026-01-01T10:00:00Z", "", state=None),
        transcript("live", "2026-01-02T09:00:00Z", "live preview", live=True, state="live"),
    ]
    rows = merge_sessions(registry, transcripts, limit=10)
    assert [r.session_id for r in rows] == ["both", "hib", "closed", "live", "disk"]
    by_id = {r.session_id: r for r in rows}
    assert (by_id["both"].state, by_id["both"].preview, by_id["both"].when) == ("hibernated", "the transcript's preview", "2026-01-02T12:00:00Z")
    assert (by_id["hib"].preview, by_id["hib"].project, by_id["hib"].state) == ("refactor the parser", "app", "hibernated")
    assert by_id["closed"].state is None  # closed: resumed, not attached
    assert by_id["live"].state == "live" and by_id["disk"].state is None
    assert [r.session_id for r in merge_sessions(registry, transcripts, limit=2)] == ["both", "hib"]


def test_sessions_table_marks_states_in_words() -> None:
    rows = merge_sessions(
        [entry(), entry(session_id="on", state="live", status="connected")],
        [transcript("disk", "2026-01-01T10:00:00Z", "[bold]not markup[/]")],
        limit=10,
    )
    out = console()
    out.print(render.sessions_table(rows))
    table = output(out)
    hibernated_line = next(line for line in table.splitlines() if "refactor the parser" in line)
    assert "◌ hibernated" in hibernated_line and "hib" in hibernated_line
    assert "● live" in table and "[bold]not markup[/]" in table  # titles and previews are text, not markup
    assert "new session" in table


async def test_recent_sessions_asks_both_lists_and_keeps_the_cwd(client_for: ClientFor) -> None:
    fake = FakeServer()
    other = REGISTRY_ENTRY.model_copy(update={"session_id": "elsewhere", "cwd": "/w/other"})
    fake.routes["GET /sessions"] = SessionList(sessions=[REGISTRY_ENTRY, other], counts=COUNTS)
    fake.routes["GET /sessions/available"] = AvailableSessions(sessions=[Transcript(
        session_id="disk", modified="2026-01-01T00:00:00Z", preview="p", project="app", cwd="/w/app", live=False)])
    rows = await recent_sessions(client_for(fake), "app", limit=7)
    assert [r.session_id for r in rows] == ["hib", "disk"]
    assert dict(fake.seen("GET", "/sessions")[0].url.params) == {"limit": "7", "offset": "0"}
    assert dict(fake.seen("GET", "/sessions/available")[0].url.params) == {"limit": "7", "offset": "0", "cwd": "app"}
    assert [r.session_id for r in await recent_sessions(client_for(fake), None, limit=7)] == ["hib", "elsewhere", "disk"]


@pytest.mark.parametrize(("answer", "attached"), [("1", True), ("2", False)])
async def test_picking_a_hibernated_session_attaches_and_a_closed_transcript_resumes(
    client_for: ClientFor, answer: str, attached: bool
) -> None:
    fake = FakeServer("hib", status="hibernated")
    fake.routes["GET /sessions"] = SessionList(sessions=[REGISTRY_ENTRY], counts=COUNTS)
    fake.routes["GET /sessions/available"] = AvailableSessions(sessions=[Transcript(
        session_id="gone", modified="2026-01-01T00:00:00Z", preview="old", cwd="/w", live=False, state="closed")])
    fake.routes["GET /sessions/gone/history"] = SessionHistory(session_id="gone", messages=[])
    fake.routes["POST /sessions"] = lambda request: reply(CreatedSession(
        session_id=json.loads(request.content)["resume_session_id"], created_at="2026-01-02T12:00:00Z", cwd="/w",
        permission_mode="default", resumed=True), 201)
    chat = Chat(client_for(fake), console(), ScriptedInput(answer), parse_args([], {}))
    await _open_first_session(chat)
    assert chat.session is not None
    if attached:
        assert not fake.seen("POST", "/sessions"), "a hibernated session must not be resumed"
        assert (chat.session.session_id, chat.session.owned, chat.session.status) == ("hib", False, "hibernated")
        assert "Attached to hibernated session hib" in output(chat) and "the next message wakes it" in output(chat)
        assert "hibernated — the next message wakes it" in chat.toolbar_text()
    else:
        assert json.loads(fake.seen("POST", "/sessions")[0].content) == {"resume_session_id": "gone"}
        assert "Resumed session gone" in output(chat) and "hibernated" not in chat.toolbar_text()


# -- statuses while a turn runs ---------------------------------------------------------


def test_status_words_and_waking_notice() -> None:
    assert render.describe_status("hibernated") == "hibernated — the next message wakes it"
    assert render.describe_status("waking") == "waking…"
    assert render.describe_status("something-new") == "something-new"
    out = console()
    view = TurnView(out)
    for event in events("s", (0, "status", {"status": "waking"}), (1, "status", {"status": "connected"}),
                        (2, "status", {"status": "running"})):
        view.show(event)
    view.stop()
    text = output(out)
    assert text.strip() == "◌ waking the hibernated session…"  # one dim line, no error mark


async def test_a_message_to_a_hibernated_session_wakes_it_without_resuming(client_for: ClientFor) -> None:
    fake = FakeServer("hib", status="hibernated")
    fake.turn = events(
        "hib",
        (17, "status", {"status": "waking"}),
        (90_412, "status", {"status": "connected"}),
        (91_000, "turn_started", {"message": "hello"}),
        (95_337, "assistant_message", {"content": [{"type": "text", "content": "Good morning."}]}),
        (2_000_123, "result", {"num_turns": 1, "duration_ms": 900, "is_error": False}),
        (2_000_124, "status", {"status": "connected"}),
    )
    chat = Chat(client_for(fake), console(), ScriptedInput(), parse_args([], {}))
    await chat.open("hib")
    await chat.send("hello")
    text = output(chat)
    assert "◌ waking the hibernated session…" in text and "Good morning." in text and "1 turn" in text
    assert "✗" not in text and "closed" not in text and "reconnected" not in text
    assert not fake.seen("POST", "/sessions")
    assert len(fake.seen("POST", "/sessions/hib/messages")) == 1
    assert chat.session is not None and (chat.session.live, chat.session.status) == (True, "connected")
    assert "hibernated" not in chat.toolbar_text()


async def test_following_a_running_turn_with_gapped_ids(client_for: ClientFor) -> None:
    fake = FakeServer("busy", status="running")
    fake.status.last_event_id = BIG_ID + 77_777  # the snapshot's cursor: replayed up to here, live after
    fake.backlog = events(
        "busy",
        (1, "result", {"num_turns": 1, "duration_ms": 1, "is_error": False}),  # an earlier turn: not shown
        (5_001, "turn_started", {"message": "count"}),
        (77_777, "text_delta", {"text": "one "}),
        (9_000_000, "text_delta", {"text": "two"}),
        (9_500_000, "result", {"num_turns": 2, "duration_ms": 2000, "is_error": False}),
    )
    out = console()
    outcome = await TurnRunner(client_for(fake), "busy", ScriptedInput(), out).run(None)
    assert outcome.status == "done" and outcome.result is not None and outcome.result.num_turns == 2
    assert "one two" in output(out) and output(out).count("turn") == 1


async def test_follower_accepts_gaps_and_resumes_from_the_last_id() -> None:
    seen_cursors: list[str | None] = []
    first = events("s", (3, "text_delta", {"text": "a"}), (1_000, "text_delta", {"text": "b"}))
    second = events("s", (1_000, "text_delta", {"text": "b"}), (250_000, "result", {"num_turns": 1}))

    async def body(items: list[WireModel], then_break: bool) -> AsyncIterator[bytes]:
        yield sse(StatusSnapshot(session_id="s", status="running", last_event_id=BIG_ID))
        for item in items:
            yield sse(item)
        if then_break:
            raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        seen_cursors.append(request.headers.get("Last-Event-ID"))
        items, broken = (first, True) if len(seen_cursors) == 1 else (second, False)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body(items, broken))

    async with AgentClient("http://test", transport=httpx.MockTransport(handler)) as client:
        follower = EventFollower(client, "s", after=BIG_ID, retry_delays=(0, 0))
        got = [e async for e in follower if not isinstance(e, StatusSnapshot)]
    assert [e.id for e in got] == [BIG_ID + 3, BIG_ID + 1_000, BIG_ID + 250_000]  # nothing lost, nothing twice
    assert seen_cursors == [str(BIG_ID), str(BIG_ID + 1_000)]
    assert follower.reconnects == 1 and follower.last_event_id == BIG_ID + 250_000


# -- /hibernate -------------------------------------------------------------------------


async def test_hibernate_command(client_for: ClientFor) -> None:
    fake = FakeServer("s1")
    replies = [reply(ErrorBody(detail="a turn is running"), 409),
               reply(HibernateReply(session_id="s1", was_live=True)),
               reply(ErrorBody(detail="session s1 not found"), 404)]
    fake.routes["POST /sessions/s1/hibernate"] = lambda request: replies.pop(0)
    chat = Chat(client_for(fake), console(), ScriptedInput(), parse_args([], {}))
    await chat.open("s1")
    parsed = commands.parse("/hibernate")
    assert parsed is not None and parsed[0].name == "hibernate" and commands.parse("hibernate") is not None

    await parsed[0].run(chat, parsed[1])
    assert "A turn is running" in output(chat) and "hibernated" not in chat.toolbar_text()
    await parsed[0].run(chat, parsed[1])
    assert "Session hibernated" in output(chat) and "hibernated — the next message wakes it" in chat.toolbar_text()
    await parsed[0].run(chat, parsed[1])
    assert chat.session is not None and (chat.session.live, chat.session.status) == (False, "closed")
    assert "closed — the next message resumes it" in chat.toolbar_text()
    assert len(fake.seen("POST", "/sessions/s1/hibernate")) == 3


# -- Retry-After ------------------------------------------------------------------------


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0 and parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("Fri, 02 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 02 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("nan") is None
    assert error_for_status(503, "busy").message == "busy"


async def test_503_carries_the_retry_hint(client_for: ClientFor) -> None:
    fake = FakeServer("s1", status="hibernated")
    busy = ErrorBody(detail="every live session is busy")
    fake.routes["POST /sessions"] = lambda request: reply(busy, 503, headers={"Retry-After": "5"})
    fake.routes["POST /sessions/s1/messages"] = lambda request: reply(busy, 503, headers={"Retry-After": "12"})
    client = client_for(fake)
    with pytest.raises(ServerError) as refused:
        await client.create_session()
    assert (refused.value.status_code, refused.value.retry_after) == (503, 5.0)
    assert refused.value.message == "every live session is busy (the server asks to retry in 5 s)"
    assert "retry in 5 s" in str(refused.value)
    with pytest.raises(ServerError) as streamed:
        async for _ in client.stream_message("s1", "hi"):
            pass
    assert streamed.value.retry_after == 12.0

    chat = Chat(client, console(), ScriptedInput(), parse_args([], {}))
    await chat.open("s1")
    await chat.send("wake up")
    assert "The server refused the message: every live session is busy (the server asks to retry in 12 s)" in output(chat)
