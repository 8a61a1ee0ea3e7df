"""Every SSE stream of the server ends its lines with LF only, as OpenCode's server does
(sse-starlette's default is CRLF; ``@opencode-ai/sdk``'s default client splits frames on
``"\\n\\n"`` and never yielded one)."""

from __future__ import annotations

import httpx
import pytest

from servers import ServerProcess

pytestmark = pytest.mark.e2e


def first_frames(http: httpx.Client, method: str, path: str, frames: int = 1, **kwargs: object) -> bytes:
    """The raw bytes of a stream up to its ``frames``-th blank line (or its end)."""
    found = b""
    with http.stream(method, path, **kwargs) as stream:  # type: ignore[arg-type]
        assert stream.status_code == 200, stream.read()
        assert stream.headers["content-type"].startswith("text/event-stream")
        for chunk in stream.iter_raw():
            found += chunk
            if found.count(b"\n\n") >= frames:
                break
    return found


def test_every_stream_is_lf_only(server: ServerProcess, http: httpx.Client, session: str) -> None:
    turn = first_frames(http, "POST", f"/sessions/{session}/messages", frames=10_000, json={"message": "say framed", "stream": True})
    assert b"event: result\n" in turn
    streams = {
        "turn": turn,
        "session events": first_frames(http, "GET", f"/sessions/{session}/events", headers={"Last-Event-ID": "0"}, frames=3),
        "server events": first_frames(http, "GET", "/events", frames=1),
        "opencode event": first_frames(http, "GET", "/event", frames=1),
        "opencode global event": first_frames(http, "GET", "/global/event", frames=1),
        "demo model": first_frames(http, "POST", "/demo/v1/messages", frames=10_000, json={"model": "demo", "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "say hi"}]}),
    }
    for name, raw in streams.items():
        assert raw.endswith(b"\n\n") and b"\r" not in raw, (name, raw[:300])
    assert streams["opencode event"] == b'data: {"type": "server.connected", "properties": {}}\n\n'
