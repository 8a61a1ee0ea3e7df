"""Unit tests: OpenCode ids, the tool/permission tables and the event → message mapper."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from claude_agent_server.opencode import ids, mapping
from claude_agent_server.opencode.conversation import Context, Conversation
from claude_agent_server.opencode.errors import basic_password
from claude_agent_server.opencode.hub import derive_session_id
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
    asked = mapping.permission_request(request, "ses_x", "msg_y")
    assert asked["permission"] == "bash" and asked["patterns"] == ["echo hi > f.txt"]
    assert asked["always"] == ["echo hi *"] and asked["tool"] == {"messageID": "msg_y", "callID": "toolu_1"}
    assert asked["id"] == mapping.permission_id(request) and ids.is_valid(asked["id"], "per")
    write = mapping.permission_request({**request, "tool_name": "Write", "tool_input": {"file_path": "/w/a.txt", "content": "x\n"}, "suggestions": []}, "s", None)
    assert write["permission"] == "edit" and write["patterns"] == ["/w/a.txt"] and write["metadata"]["filePath"] == "/w/a.txt"
    assert "+x" in write["metadata"]["diff"] and "tool" not in write
    odd = mapping.permission_request({**request, "tool_name": "mcp__x__y", "tool_input": {}}, "s", None)
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
    assert [m.to_dict() for m in live.messages.values()] == [m.to_dict() for m in replayed.messages.values()]
    user, assistant = live.messages.values()
    assert user.info.id < assistant.info.id and assistant.info.parent_id == user.info.id
    text, tool = assistant.parts.values()
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
    [text] = assistant.parts.values()
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
