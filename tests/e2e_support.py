"""Helpers for end-to-end tests: wait for server-side state, run a turn in the background."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

from servers import ServerProcess

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="turn")


def wait_until(predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def status(http: httpx.Client, session_id: str) -> dict[str, Any]:
    reply = http.get(f"/sessions/{session_id}/status")
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_for_permissions(http: httpx.Client, session_id: str, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The session's pending permission requests, once at least ``count`` are pending."""
    return wait_until(
        lambda: (p := status(http, session_id)["pending_permissions"]) and len(p) >= count and p,
        timeout,
        what=f"{count} pending permission request(s)",
    )


def in_background(work: Callable[[], Any]) -> Future[Any]:
    """Run ``work`` in a worker thread (up to eight at once); the future holds its result."""
    return _pool.submit(work)


def post_in_background(server: ServerProcess, path: str, body: dict[str, Any]) -> Future[httpx.Response]:
    """POST ``body`` to ``path`` from another thread; the future holds the HTTP response."""

    def post() -> httpx.Response:
        with server.client(timeout=120) as client:
            return client.post(path, json=body)

    return _pool.submit(post)


def send_in_background(server: ServerProcess, session_id: str, message: str, **body: Any) -> Future[httpx.Response]:
    """POST a message from another thread; the future holds the HTTP response."""
    return post_in_background(server, f"/sessions/{session_id}/messages", {"message": message, **body})


def answer(http: httpx.Client, session_id: str, request_id: str, allowed: bool, **extra: Any) -> httpx.Response:
    return http.post(
        f"/sessions/{session_id}/permissions/respond",
        json={"request_id": request_id, "allowed": allowed, **extra},
    )


def reply_text(reply: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in reply["messages"] if m["type"] == "text")


def tool_results(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in reply["messages"] if m["type"] == "tool_result"]


def bypass_session(http: httpx.Client, cwd: str) -> str:
    """A new session in ``cwd`` whose tools run without asking (``bypassPermissions``); its id."""
    response = http.post("/sessions", json={"cwd": cwd, "permission_mode": "bypassPermissions"})
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def run_bash(http: httpx.Client, session_id: str, command: str) -> str:
    """The output of ``command`` run by the session's Bash tool (stderr folded in, then ``rc=<status>``)."""
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": f"run `{command} 2>&1; echo rc=$?`"})
    assert reply.status_code == 200, reply.text
    results = tool_results(reply.json())
    assert results, reply_text(reply.json())
    return str(results[0]["content"])


def read_events(
    http: httpx.Client, method: str, url: str, until: str | Callable[[dict[str, Any]], bool] | None = "result", limit: int = 500, **kwargs: Any
) -> list[dict[str, Any]]:
    """SSE frames as ``{id, event, data}`` dicts, up to the first frame that is an
    ``until`` event (or satisfies ``until(frame)``), or the stream's end."""
    frames = []
    with connect_sse(http, method, url, **kwargs) as source:
        assert source.response.status_code == 200, source.response.read()
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            if not sse.data:
                continue  # httpx-sse dispatches the blank line after a heartbeat comment as an empty event
            frame = {"id": sse.id, "event": sse.event, "data": json.loads(sse.data)}
            frames.append(frame)
            if (until(frame) if callable(until) else sse.event == until) or len(frames) >= limit:
                break
    return frames


def stored_transcript(data_dir: Path, session_id: str) -> list[dict[str, Any]] | None:
    """The entries of a session's main transcript in the SQLite registry of ``data_dir``
    (read through an engine of its own), or None when the store has none."""
    from claude_agent_server.store import SqlTranscriptStore, default_database_url
    from claude_agent_server.store.engine import make_engine

    async def read() -> list[dict[str, Any]] | None:
        engine = make_engine(default_database_url(data_dir))
        try:
            store = SqlTranscriptStore(engine)
            places = await store.locate(session_id)
            return await store.load({"project_key": places[0].project_key, "session_id": session_id}) if places else None
        finally:
            await engine.dispose()

    return asyncio.run(read())
