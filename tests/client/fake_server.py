"""Scripted stand-ins for the client's edges: an agent server behind ``httpx.MockTransport``
and a user who answers from a list."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

BIG_ID = 1_800_000_000_000_000
"""Event ids are microsecond-based on the server: large, increasing, with gaps."""

Handler = Callable[[httpx.Request], httpx.Response]


class ScriptedInput:
    """A UserInput that answers questions from a list and records them."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []

    async def read_message(self, prompt: str) -> str:
        raise EOFError

    async def ask(self, question: str) -> str:
        self.questions.append(question)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)

    def cancel(self) -> bool:
        return False


def sse(event_type: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event frame (with an ``id:`` line when ``data`` has an id)."""
    head = f"id: {data['id']}\n" if "id" in data else ""
    return f"{head}event: {event_type}\ndata: {json.dumps(data)}\n\n".encode()


class FakeServer:
    """An agent server for ``httpx.MockTransport``: canned replies per route, one session's
    event stream, and a record of every request.

    ``routes`` maps ``"METHOD /path"`` to a JSON body (answered 200) or to a handler.
    ``GET /sessions/{id}/events`` answers a ``status`` snapshot (``status``), then the
    ``backlog`` events, then — once a message is posted — the ``turn`` events.
    Unknown routes answer 404.
    """

    def __init__(self, session_id: str = "s1", status: str = "connected") -> None:
        self.session_id = session_id
        self.status: dict[str, Any] = {
            "session_id": session_id, "status": status, "pending_permissions": [], "current_model": None,
            "permission_mode": "default", "last_event_id": BIG_ID, "cwd": "/w",
        }
        self.routes: dict[str, Any] = {
            "GET /health": {"status": "healthy", "active_sessions": 1, "timestamp": ""},
            f"GET /sessions/{session_id}/status": lambda request: httpx.Response(200, json=self.status),
            f"GET /sessions/{session_id}/history": {"messages": []},
            f"POST /sessions/{session_id}/messages": self._post_message,
        }
        self.backlog: list[dict[str, Any]] = []
        self.turn: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self._posted = asyncio.Event()

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def seen(self, method: str, path: str) -> list[httpx.Request]:
        """The requests made to ``METHOD path``."""
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == f"/sessions/{self.session_id}/events":
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=self._stream())
        route = self.routes.get(f"{request.method} {request.url.path}")
        if route is None:
            return httpx.Response(404, json={"detail": f"no route {request.method} {request.url.path}"})
        return route(request) if callable(route) else httpx.Response(200, json=route)

    def _post_message(self, request: httpx.Request) -> httpx.Response:
        self._posted.set()
        return httpx.Response(200, json={"session_id": self.session_id, "messages": [], "result": "ok", "num_turns": 1})

    async def _stream(self) -> AsyncIterator[bytes]:
        yield sse("status", self.status)
        for event in self.backlog:
            yield sse(event["type"], event)
        await self._posted.wait()
        for event in self.turn:
            yield sse(event["type"], event)
        await asyncio.Event().wait()  # an open stream: it ends only when the client leaves


def events(session_id: str, *items: tuple[int, str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Event payloads from ``(id offset from BIG_ID, type, data)`` triples."""
    return [{"id": BIG_ID + offset, "type": kind, "session_id": session_id, **data} for offset, kind, data in items]
