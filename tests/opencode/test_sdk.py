"""OpenCode's Python SDK (``opencode-ai`` 0.1.0a36) and raw OpenCode calls against the real
server, the real Claude Code CLI and the demo model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from opencode_ai import NotFoundError, Opencode

from e2e_support import in_background, wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Opencode]:
    with Opencode(base_url=server.url, timeout=120, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120) as raw:
        yield raw


def new_session(http: httpx.Client, workdir: Path) -> str:
    reply = http.post("/session", json={}, headers={"x-opencode-directory": quote(str(workdir))})
    assert reply.status_code == 200, reply.text
    assert reply.json()["directory"] == str(workdir)
    return reply.json()["id"]


def text_of(parts: list[Any]) -> str:
    return "".join(getattr(p, "text", "") or "" for p in parts if getattr(p, "type", "") == "text")


def pending_permission(http: httpx.Client, session_id: str) -> dict[str, Any]:
    return wait_until(lambda: next((p for p in http.get("/permission").json() if p["sessionID"] == session_id), None), 60, what="a permission.asked")


def chat(client: Opencode, session_id: str, text: str) -> Any:
    return client.session.chat(session_id, provider_id="demo", model_id="demo", parts=[{"type": "text", "text": text}])


def test_create_chat_list_delete(client: Opencode, http: httpx.Client, workdir: Path) -> None:
    session = client.session.create()
    assert session.id.startswith("ses_") and session.title
    assert session.id in [s.id for s in client.session.list()]
    reply = chat(client, session.id, "remember that my name is Ada")
    assert reply.role == "assistant" and reply.session_id == session.id and reply.time.completed
    messages = client.session.messages(session.id)
    assert [m.info.role for m in messages] == ["user", "assistant"]
    assert messages[1].info.id == reply.id
    assert "Ada" in text_of(messages[1].parts)
    second = chat(client, session.id, "what is my name?")
    assert second.id > reply.id
    assert "Ada" in text_of(client.session.messages(session.id)[-1].parts)
    assert client.session.delete(session.id) is True
    with pytest.raises(NotFoundError):
        client.session.delete(session.id)


def answer_bash(client: Opencode, http: httpx.Client, workdir: Path, name: str, response: str) -> Any:
    session_id = new_session(http, workdir)
    pending = in_background(lambda: chat(client, session_id, f"run `echo hi > {name}`"))
    asked = pending_permission(http, session_id)
    assert asked["permission"] == "bash" and asked["patterns"] == [f"echo hi > {name}"]
    assert asked["id"].startswith("per_")
    answered = client.post(f"/session/{session_id}/permissions/{asked['id']}", body={"response": response}, cast_to=object)
    assert answered is True
    return pending.result(timeout=120)


def test_bash_permission_once(client: Opencode, http: httpx.Client, workdir: Path) -> None:
    reply = answer_bash(client, http, workdir, "f.txt", "once")
    assert reply.error is None
    assert (workdir / "f.txt").read_text() == "hi\n"


def test_bash_permission_reject(client: Opencode, http: httpx.Client, workdir: Path) -> None:
    answer_bash(client, http, workdir, "g.txt", "reject")
    assert not (workdir / "g.txt").exists()


def test_abort_a_slow_turn(client: Opencode, http: httpx.Client, workdir: Path) -> None:
    session_id = new_session(http, workdir)
    pending = in_background(lambda: chat(client, session_id, "count slowly"))
    wait_until(lambda: http.get("/session/status").json().get(session_id), 60, what="a busy session")
    assert client.session.abort(session_id) is True
    reply = pending.result(timeout=60)
    assert reply.time.completed
    assert session_id not in http.get("/session/status").json()


def said(frames: list[dict[str, Any]], session_id: str) -> list[str]:
    """The session's finished text parts among ``{type, properties}`` frames (what ``opencode run`` prints)."""
    return [f["properties"]["part"]["text"] for f in frames if f["type"] == "message.part.updated" and f["properties"]["sessionID"] == session_id
            and f["properties"]["part"]["type"] == "text" and "end" in f["properties"]["part"].get("time", {})]


def test_a_prompt_posted_before_its_event_stream_connects(server: ServerProcess, http: httpx.Client, workdir: Path) -> None:
    """``opencode run`` may post before its ``/event`` is up: its reply waits for a subscriber,
    which gets the whole turn (ids as in GET /message); one that connects after the reply
    gets nothing of that turn."""
    session_id = new_session(http, workdir)
    body = {"parts": [{"type": "text", "text": "say posted first"}]}
    pending = in_background(lambda: http.post(f"/session/{session_id}/message", json=body, headers={"User-Agent": "opencode/1.18.33"}))
    wait_until(lambda: (m := http.get(f"/session/{session_id}/message").json()) and m[-1]["info"].get("time", {}).get("completed"), 30, 0.02, what="the turn's end")
    assert not pending.done()  # held until an event subscriber has the turn
    frames: list[dict[str, Any]] = []
    with httpx.Client(timeout=30) as raw, raw.stream("GET", f"{server.url}/global/event") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
                payload = frames[-1]["payload"]
                if payload["type"] == "session.idle" and payload["properties"]["sessionID"] == session_id:
                    break
    reply = pending.result(timeout=30)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["info"] == {k: v for k, v in body.items() if k not in ("info", "parts")}
    assert frames[0] == {"directory": "global", "payload": {"type": "server.connected", "properties": {}}}
    mine = [f["payload"] for f in frames if f["payload"]["properties"].get("sessionID") == session_id]
    assert all(f["directory"] == str(workdir) for f in frames[1:] if f["payload"]["properties"].get("sessionID") == session_id)
    types = [p["type"] for p in mine]
    assert types[0] == "message.updated" and mine[0]["properties"]["info"]["role"] == "user"  # from the turn's start
    assert types.index("session.status") < types.index("session.idle")
    assert any(p["type"] == "message.part.updated" and p["properties"].get("delta") for p in mine)
    parts = {p["properties"]["part"]["id"]: p["properties"]["part"] for p in mine if p["type"] == "message.part.updated"}
    listed = http.get(f"/session/{session_id}/message").json()
    assert {p["id"] for m in listed for p in m["parts"]} == set(parts)
    assert [p["id"] for p in body["parts"]] == [p["id"] for p in listed[1]["parts"]]
    assert parts[body["parts"][0]["id"]]["text"] == body["parts"][0]["text"] == "posted first"
    with httpx.Client(timeout=httpx.Timeout(30, read=1.5)) as raw, raw.stream("GET", f"{server.url}/event") as stream:
        late: list[dict[str, Any]] = []
        with pytest.raises(httpx.ReadTimeout):
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    late.append(json.loads(line[6:]))
    assert [f["type"] for f in late] == ["server.connected"]


def test_errors_have_opencode_shape(http: httpx.Client, server: ServerProcess) -> None:
    missing = http.get("/session/ses_000000000000AAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert missing.json()["name"] == "NotFoundError" and missing.json()["data"]["message"]
    outside = http.post("/session", json={}, params={"directory": "/etc"})
    assert outside.status_code == 400 and outside.json()["name"] == "BadRequestError"
    invalid = http.post("/permission/per_x/reply", json={"reply": "maybe"})
    assert invalid.status_code == 400 and invalid.json()["name"] == "BadRequestError"
    gone = http.post("/permission/per_000000000000AAAAAAAAAAAAAA/reply", json={"reply": "once"})
    assert gone.status_code == 404
    assert "detail" in http.get("/sessions/nope/status").json()  # the server's own shape elsewhere


def read_frames(url: str, headers: dict[str, str], session_id: str, then: Any = None) -> list[tuple[str | None, dict[str, Any]]]:
    """``(id, frame)`` pairs from an OpenCode event stream until a turn of the session has
    ended; ``then`` runs in the background once the stream is connected."""
    found: list[tuple[str | None, dict[str, Any]]] = []
    with httpx.Client(timeout=30) as raw, raw.stream("GET", url, headers=headers) as stream:
        assert stream.status_code == 200
        event_id = None
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                found.append((event_id, json.loads(line[6:])))
                event_id = None
                frame = found[-1][1]
                if frame["type"] == "server.connected" and then is not None:
                    pending = in_background(then)
                if frame["type"] == "session.idle" and frame["properties"]["sessionID"] == session_id:
                    break
    if then is not None:
        reply = pending.result(timeout=60)
        assert reply.status_code == 200, reply.text
    return found


def test_a_new_subscriber_gets_only_the_turn_that_runs(server: ServerProcess, http: httpx.Client, workdir: Path) -> None:
    """A turn that is over (its reply sent) is never replayed to a subscriber without
    ``Last-Event-ID``; ``Last-Event-ID`` resumes after the last frame seen."""
    session_id = new_session(http, workdir)

    def prompt(text: str) -> Any:
        return lambda: http.post(f"/session/{session_id}/message", json={"parts": [{"type": "text", "text": text}]})

    assert prompt("say turn one")().status_code == 200
    seen = read_frames(f"{server.url}/event", {}, session_id, then=prompt("say turn two"))
    assert said([f for _, f in seen], session_id) == ["turn two"]
    ids = [event_id for event_id, _ in seen if event_id is not None]
    assert ids and ids == sorted(ids, key=int)
    assert seen[-1][0] == ids[-1]  # session.idle, where clients stop reading, carries the turn's last id
    assert prompt("say turn three")().status_code == 200
    resumed = read_frames(f"{server.url}/event", {"Last-Event-ID": ids[-1]}, session_id)
    assert resumed[0][1]["type"] == "server.connected"
    assert said([f for _, f in resumed], session_id) == ["turn three"]
    assert all(int(event_id) > int(ids[-1]) for event_id, _ in resumed if event_id is not None)
    ahead = http.get("/event", headers={"Last-Event-ID": str(int(ids[-1]) + 10**12)})
    assert ahead.status_code == 400 and ahead.json()["name"] == "BadRequestError"
