"""Server-Sent Events: a streamed turn, the session event stream, Last-Event-ID replay."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from e2e_support import answer, read_events, send_in_background
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def test_streamed_turn(http: httpx.Client, session: str) -> None:
    frames = read_events(http, "POST", f"/sessions/{session}/messages", json={"message": "hello", "stream": True})
    kinds = [f["event"] for f in frames]
    assert kinds[0] == "turn_started" and kinds[-1] == "result"
    assert "text_delta" in kinds and "assistant_message" in kinds
    ids = [int(f["id"]) for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for frame in frames:
        assert frame["data"]["type"] == frame["event"]
        assert frame["data"]["session_id"] == session
        assert frame["data"]["id"] == int(frame["id"])
    streamed = "".join(f["data"]["text"] for f in frames if f["event"] == "text_delta")
    assert "offline demo model" in streamed
    assert frames[-1]["data"]["is_error"] is False


def test_accept_header_selects_streaming(http: httpx.Client, session: str) -> None:
    frames = read_events(
        http, "POST", f"/sessions/{session}/messages", json={"message": "hello"}, headers={"Accept": "text/event-stream"}
    )
    assert frames[-1]["event"] == "result"


def test_streamed_turn_with_permission(server: ServerProcess, http: httpx.Client, session: str, workdir: Any) -> None:
    frames: list[dict[str, Any]] = []
    with connect_sse(http, "POST", f"/sessions/{session}/messages", json={"message": "create a file sse.txt", "stream": True}) as source:
        for sse in source.iter_sse():
            frame = {"id": sse.id, "event": sse.event, "data": json.loads(sse.data)}
            frames.append(frame)
            if sse.event == "permission_request":
                assert frame["data"]["tool_name"] == "Write" and frame["data"]["suggestions"]
                answer(http, session, frame["data"]["request_id"], True)
            if sse.event == "result":
                break
    kinds = [f["event"] for f in frames]
    assert kinds.index("permission_request") < kinds.index("permission_resolved") < kinds.index("tool_result")
    resolved = next(f for f in frames if f["event"] == "permission_resolved")["data"]
    assert resolved["allowed"] is True and resolved["reason"] == "user"
    assert (workdir / "sse.txt").exists()


def test_event_stream_replays_after_last_event_id(server: ServerProcess, http: httpx.Client, session: str) -> None:
    http.post(f"/sessions/{session}/messages", json={"message": "remember that replay works"})
    turn = read_events(http, "POST", f"/sessions/{session}/messages", json={"message": "hello", "stream": True})
    middle = int(turn[len(turn) // 2]["id"])
    replay = read_events(http, "GET", f"/sessions/{session}/events", headers={"Last-Event-ID": str(middle)})
    snapshot, replayed = replay[0], replay[1:]
    assert snapshot["event"] == "status" and snapshot["id"] in (None, "")
    assert snapshot["data"]["status"] == "connected"
    expected = [f["id"] for f in turn if int(f["id"]) > middle]
    assert [f["id"] for f in replayed if f["event"] != "status"] == expected
    via_query = read_events(http, "GET", f"/sessions/{session}/events", params={"after": middle})
    assert [f["id"] for f in via_query[1:]] == [f["id"] for f in replayed]


def test_event_stream_delivers_live_events(server: ServerProcess, http: httpx.Client, session: str) -> None:
    frames: list[dict[str, Any]] = []
    with connect_sse(http, "GET", f"/sessions/{session}/events") as source:
        events = source.iter_sse()
        first = next(events)
        assert first.event == "status"
        pending = send_in_background(server, session, "run `echo live > live.txt`")
        for sse in events:
            frames.append({"event": sse.event, "data": json.loads(sse.data)})
            if sse.event == "permission_request":
                answer(http, session, frames[-1]["data"]["request_id"], False)
            if sse.event == "result":
                break
    assert pending.result(timeout=30).status_code == 200
    kinds = [f["event"] for f in frames]
    assert kinds[0] == "turn_started" and "permission_request" in kinds and kinds[-1] == "result"


def test_event_stream_ends_when_the_session_closes(http: httpx.Client, session: str) -> None:
    with connect_sse(http, "GET", f"/sessions/{session}/events") as source:
        events = source.iter_sse()
        assert next(events).event == "status"
        http.delete(f"/sessions/{session}")
        rest = [(sse.event, json.loads(sse.data)) for sse in events]
    last_event, last_data = rest[-1]
    assert last_event == "status" and last_data["status"] == "closed"
