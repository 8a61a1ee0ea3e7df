"""Unit tests: OpenCode ids, the tool/permission tables and the event → message mapper."""

from __future__ import annotations

import asyncio
import base64
from types import SimpleNamespace
from typing import Any

from claude_agent_server.opencode import ids, mapping
from claude_agent_server.opencode.conversation import Context, Conversation
from claude_agent_server.opencode.errors import basic_password
from claude_agent_server.opencode.hub import Hub, derive_session_id
from claude_agent_server.opencode.protocol import dump
from claude_agent_server.opencode.routes.event import _with_heartbeats
from claude_agent_server.sessions import Event
from starlette.requests import Request

T0 = 1_795_000_000_000_000  # µs


def test_ids_have_opencodes_form_and_order() -> None:
    a = ids.derive("msg", ids.value_of_event(T0), "x")
    b = ids.derive("msg", ids.value_of_event(T0 + 1), "y")
    c = ids.derive("msg", ids.value_of_event(T0 + 1000), "z")
    assert all(ids.is_valid(i, "msg") for i in (a, b, c))
    assert a < b < c
    assert len(a) == len("msg_") + 26
    assert ids.derive("msg", 5, "x") == ids.derive("msg", 5, "x") != ids.derive("msg", 5, "w")
    first, second = (ids.derive("prt", 7, "same", index=i) for i in (0, 1))
    assert first < second
    # OpenCode's own scale: ms * 0x1000 + counter (a TUI's id at the same ms sorts with ours)
    assert ids.derive("msg", ids.value_of_ms(T0 // 1000), "q")[4:16] == a[4:16]


def test_session_ids_descend() -> None:
    older = derive_session_id("00000000-0000-4000-8000-000000000001", 1_795_000_000_000)
    newer = derive_session_id("00000000-0000-4000-8000-000000000002", 1_795_000_000_001)
    assert ids.is_valid(older, "ses") and newer < older


def test_permission_request_mapping() -> None:
    request = {
        "request_id": "r1",
        "tool_name": "Bash",
        "tool_input": {"command": "echo hi > f.txt", "description": "write"},
        "suggestions": [{"type": "addRules", "behavior": "allow", "rules": [{"toolName": "Bash", "ruleContent": "echo hi *"}]}],
        "tool_use_id": "toolu_1",
        "created_at": "2026-11-22T04:00:00+00:00",
    }
    asked = dump(mapping.permission_request(request, "ses_x", "msg_y"))
    assert asked["permission"] == "bash" and asked["patterns"] == ["echo hi > f.txt"]
    assert asked["always"] == ["echo hi *"] and asked["tool"] == {"messageID": "msg_y", "callID": "toolu_1"}
    assert asked["id"] == mapping.permission_id(request) and ids.is_valid(asked["id"], "per")
    write = dump(mapping.permission_request({**request, "tool_name": "Write", "tool_input": {"file_path": "/w/a.txt", "content": "x\n"}, "suggestions": []}, "s", None))
    assert write["permission"] == "edit" and write["patterns"] == ["/w/a.txt"] and write["metadata"]["filePath"] == "/w/a.txt"
    assert "+x" in write["metadata"]["diff"] and "tool" not in write
    odd = dump(mapping.permission_request({**request, "tool_name": "mcp__x__y", "tool_input": {}}, "s", None))
    assert odd["permission"] == "mcp__x__y" and odd["patterns"] == ["*"]


def events() -> list[Event]:
    at = "2026-11-22T04:00:00+00:00"
    return [
        Event(T0, "turn_started", "c", {"message": "hi"}, at),
        Event(T0 + 1, "status", "c", {"status": "running"}, at),
        Event(T0 + 2, "text_delta", "c", {"text": "I'll ", "parent_tool_use_id": None}, at),
        Event(T0 + 3, "text_delta", "c", {"text": "run it.", "parent_tool_use_id": None}, at),
        Event(T0 + 4, "assistant_message", "c", {"content": [{"type": "text", "content": "I'll run it."}], "parent_tool_use_id": None}, at),
        Event(T0 + 5, "assistant_message", "c", {"content": [{"type": "tool_use", "tool_use_id": "t1", "tool_name": "Bash", "tool_input": {"command": "ls"}}], "parent_tool_use_id": None}, at),
        Event(T0 + 6, "tool_result", "c", {"tool_use_id": "t1", "content": "a.txt", "is_error": False, "parent_tool_use_id": None}, at),
        Event(T0 + 7, "result", "c", {"turn_cost_usd": 0.5, "usage": {"input_tokens": 3, "output_tokens": 4}, "stop_reason": "end_turn"}, at),
    ]


def context(client_ids=lambda event_id: (None, None)) -> Context:  # type: ignore[no-untyped-def]
    return Context("ses_x", "/w", "/w", "demo", "demo", client_ids)


def test_live_and_replayed_events_give_the_same_messages() -> None:
    live = Conversation(context())
    stream = [e for event in events() for e in live.feed(event)]
    replayed = Conversation(context())
    for event in events():
        if event.type != "text_delta":  # never persisted
            replayed.feed(event)
    assert [dump(m.reply()) for m in live.messages.values()] == [dump(m.reply()) for m in replayed.messages.values()]
    user, assistant = live.messages.values()
    assert user.info.id < assistant.info.id and assistant.info.parent_id == user.info.id
    text, tool = (dump(part) for part in assistant.parts.values())
    assert text["text"] == "I'll run it." and text["id"] < tool["id"]
    assert tool["tool"] == "bash" and tool["state"]["status"] == "completed" and tool["state"]["output"] == "a.txt"
    deltas = [e["properties"] for e in stream if e["type"] == "message.part.updated" and "delta" in e["properties"]]
    assert [d["delta"] for d in deltas] == ["I'll ", "run it."] and deltas[-1]["part"]["text"] == "I'll run it."
    assert {d["part"]["id"] for d in deltas} == {text["id"]}
    assert [e["type"] for e in stream][-3:] == ["message.updated", "session.status", "session.idle"]
    assert assistant.info.cost == 0.5 and assistant.info.time.completed and assistant.info.finish == "stop"


def test_client_message_ids_are_kept() -> None:
    found = Conversation(context(lambda event_id: ("msg_client", "prt_client") if event_id == T0 else (None, None)))
    for event in events():
        found.feed(event)
    user = found.messages["msg_client"]
    assert list(user.parts) == ["prt_client"]


def test_interrupted_turn_closes_parts() -> None:
    found = Conversation(context())
    stream = []
    for event in events()[:4]:
        stream += found.feed(event)
    stream += found.feed(Event(T0 + 9, "result", "c", {"terminal_reason": "aborted_streaming"}, "2026-11-22T04:00:01+00:00"))
    assistant = found.assistant
    assert assistant is not None and assistant.info.error is not None and assistant.info.error.name == "MessageAbortedError"
    [text] = (dump(part) for part in assistant.parts.values())
    assert text["text"] == "I'll run it." and "end" in text["time"]
    assert "session.error" not in [e["type"] for e in stream]


def test_permission_replies_name_once_always_and_reject() -> None:
    found = Conversation(context())
    for event in events()[:5]:
        found.feed(event)
    at = "2026-11-22T04:00:01+00:00"
    replies = []
    for n, (allowed, applied) in enumerate([(True, False), (True, True), (False, False)]):
        asked = {"request_id": f"r{n}", "tool_use_id": "t1", "tool_name": "Bash", "tool_input": {"command": "ls"}, "created_at": at}
        found.feed(Event(T0 + 10 + 2 * n, "permission_request", "c", asked, at))
        data = {"request_id": f"r{n}", "tool_use_id": "t1", "allowed": allowed, "applied_suggestions": applied}
        replies += [e["properties"]["reply"] for e in found.feed(Event(T0 + 11 + 2 * n, "permission_resolved", "c", data, at))]
    assert replies == ["once", "always", "reject"]


def basic(value: str) -> Request:
    return Request({"type": "http", "headers": [(b"authorization", value.encode())]})


def test_basic_password() -> None:
    assert basic_password(basic("Basic " + base64.b64encode(b"opencode:k:ey").decode())) == "k:ey"
    assert basic_password(basic("Basic !!!")) is None
    assert basic_password(basic("Bearer abc")) is None


async def test_heartbeats_fill_the_silences_of_a_stream() -> None:
    async def slow() -> Any:
        yield "a"
        await asyncio.sleep(0.35)
        yield "b"

    got = [item async for item in _with_heartbeats(slow(), 0.1)]
    assert got[0] == "a" and got[-1] == "b" and 2 <= got.count(None) <= 4


class _Log:
    """The manager's global event log as the hub reads it (its newest id)."""

    def __init__(self) -> None:
        self.last_id = 0


def hub_over(log: _Log) -> Hub:
    manager = SimpleNamespace(registry=None, observers=[], events=log)
    return Hub(manager)  # type: ignore[arg-type]


def test_a_new_subscriber_gets_the_open_turns_and_never_an_ended_one() -> None:
    log = _Log()
    hub = hub_over(log)
    at = "2026-11-22T04:00:00+00:00"

    def publish(event_id: int, type: str, session: str) -> None:
        hub.observe(Event(event_id, type, session, {}, at))  # type: ignore[arg-type]
        log.last_id = event_id

    # a turn from REST (nobody holds its reply): open while it runs, over at its result
    publish(10, "turn_started", "rest")
    early = hub.subscribe(None)
    assert (early.start, early.turns) == (9, {"rest": 10})
    assert early.wants(11, "rest") and not early.wants(9, "rest") and early.wants(11, "other")
    publish(12, "result", "rest")
    assert hub.subscribe(None).turns == {}
    # a prompt whose reply is held: open after its result until it is answered
    expectation = hub.expect("oc", "msg_1", None, held=True)
    publish(20, "turn_started", "oc")
    assert expectation.started == 20 and hub.client_ids(20) == ("msg_1", None)
    publish(25, "text_delta", "rest")  # another session's ended turn is not replayed with it
    publish(30, "result", "oc")
    held = hub.subscribe(None)
    assert (held.start, held.turns, held.now) == (19, {"oc": 20}, 30)
    assert [i for i, s in ((20, "oc"), (25, "rest"), (30, "oc"), (31, "rest")) if held.wants(i, s)] == [20, 30, 31]
    hub.answered("oc", 20)
    after = hub.subscribe(None)
    assert (after.start, after.turns) == (30, {})
    # a held turn whose request is abandoned while it runs closes at its result
    hub.expect("oc", None, None, held=True)
    publish(40, "turn_started", "oc")
    hub.answered("oc", 40)
    assert hub.subscribe(None).turns == {"oc": 40}
    publish(41, "error", "oc")
    assert hub.subscribe(None).turns == {}
    # a cursor resumes exactly after it
    resumed = hub.subscribe(12)
    assert resumed.start == 12 and resumed.wants(13, "rest") and not resumed.wants(12, "rest")


async def test_a_held_reply_waits_for_every_subscriber_and_for_one_to_exist() -> None:
    log = _Log()
    hub = hub_over(log)
    assert await hub.wait_delivered(5, 1) is True  # nobody subscribed: nothing to wait for
    assert await hub.wait_delivered(5, 0.05, reader=True) is False  # its client's stream never came
    waiting = asyncio.ensure_future(hub.wait_delivered(5, 5, reader=True))
    await asyncio.sleep(0.01)
    subscription = hub.subscribe(None)
    await asyncio.sleep(0.01)
    assert not waiting.done()
    hub.delivered(subscription, 5)
    assert await waiting is True
    slow = hub.subscribe(None)
    assert await hub.wait_delivered(6, 0.05) is False
    hub.unsubscribe(slow)
    hub.unsubscribe(subscription)
    assert await hub.wait_delivered(6, 0.05) is True


async def test_a_reply_finds_a_request_the_registry_has_not_listed_yet() -> None:
    """``opencode run`` answers as soon as ``permission.asked`` arrives; under load that is before
    the registry has written the request and lists the session as waiting. The reply still finds it."""
    from claude_agent_server.opencode.routes.permission import _find, _waiting
    from claude_agent_server.sessions.permissions import PermissionBroker
    from claude_agent_sdk import ToolPermissionContext

    never = asyncio.Event()
    broker = PermissionBroker(lambda *_, **__: None, timeout=30, durable=lambda request: never.wait())
    ask = asyncio.create_task(broker.can_use_tool("Bash", {"command": "echo hi"}, ToolPermissionContext(suggestions=[])))
    await asyncio.sleep(0)
    session = SimpleNamespace(id="s1", permissions=broker)

    async def nobody_waiting(**_: Any) -> list[dict[str, Any]]:
        return []

    manager = SimpleNamespace(live_sessions=lambda: [session], list=nobody_waiting)
    assert broker.pending() == [] and len(broker.unanswered()) == 1
    waiting = await _waiting(manager)
    [found] = waiting.here
    request = broker.unanswered()[0]
    assert found is session and not waiting.elsewhere
    assert _find(found.permissions.unanswered(), mapping.permission_id(request.to_dict())) is request
    ask.cancel()


async def test_event_stream_merges_live_events_and_notices() -> None:
    """Events that arrive while no notice is queued are not held back (and notices come between them)."""
    import asyncio

    from claude_agent_server.opencode.routes.event import Notice, _with_heartbeats

    gate = asyncio.Event()

    async def events():  # type: ignore[no-untyped-def]
        await gate.wait()
        yield "e1"
        await asyncio.sleep(0.05)
        yield "e2"

    notices: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()
    seen: list[object] = []

    async def read() -> None:
        async for item in _with_heartbeats(events(), 30, notices):  # type: ignore[arg-type]
            seen.append(item)
            if item == "e2":
                return

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.05)
    notices.put_nowait(("s", {"type": "session.updated"}))
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.wait_for(reader, 2)
    assert seen == [Notice("s", {"type": "session.updated"}), "e1", "e2"]
