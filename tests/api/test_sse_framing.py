"""SSE framing in-process (scripted fake SDK clients): frames and pings end lines with LF only,
as OpenCode's server sends them (``@opencode-ai/sdk``'s default client splits on ``"\\n\\n"``).
The endless streams are checked against a real server in ``tests/e2e/test_sse_framing.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from fastapi.testclient import TestClient

from claude_agent_server.web.sse import EventSource, event_stream, frame
from claude_agent_server.app import create_app
from claude_agent_server.sessions import Event
from claude_agent_server.settings import Settings
from fakes import FakeClients, result, text


def test_finite_streams_are_lf_only(tmp_path: Path) -> None:
    clients = FakeClients()
    with TestClient(create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", demo=True, warm_sessions=0), client_factory=clients)) as http:
        clients.enqueue(*text("ab"), result("ab"))
        chat = http.post("/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "hi"}], "stream": True})
        session = http.post("/sessions", json={}).json()["session_id"]
        clients.enqueue(*text("cd"), result("cd"))
        turn = http.post(f"/sessions/{session}/messages", json={"message": "hi", "stream": True})
        demo = http.post("/demo/v1/messages", json={"model": "demo", "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "say hi"}]})
    for name, answer in (("gateway", chat), ("turn", turn), ("demo model", demo)):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream"), (name, answer.text)
        assert answer.content.endswith(b"\n\n") and b"\r" not in answer.content, (name, answer.content[:300])
    assert chat.content.endswith(b"data: [DONE]\n\n")


async def _none() -> AsyncIterator[object]:
    return
    yield


def test_frames_and_pings_use_lf() -> None:
    encoded = frame(Event(1, "status", "s", {"status": "idle"}, "2026-01-01T00:00:00+00:00")).encode()
    assert encoded.startswith(b"id: 1\nevent: status\ndata: ") and encoded.endswith(b"\n\n") and b"\r" not in encoded
    assert event_stream(_none(), 15).sep == "\n" and EventSource(_none()).sep == "\n"  # ping comments and dict frames
