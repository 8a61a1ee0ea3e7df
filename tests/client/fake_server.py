"""Scripted stand-ins for the client's edges: an agent server behind ``httpx.MockTransport``
and a user who answers from a list. Every reply and event the fake sends is built from the
protocol's models (claude_agent_protocol), so the fake cannot drift from the real server's
contract; a test that wants a newer server's frame passes a plain dict on purpose."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from claude_agent_protocol import (
    Health,
    SessionHistory,
    SessionStatusView,
    StatusSnapshot,
    TurnReply,
    WireModel,
    parse_event,
)

BIG_ID = 1_800_000_000_000_000
"""Event ids are microsecond-based on the server: large, increasing, with gaps."""
NOW = "2026-01-02T12:00:00+00:00"

Handler = Callable[[httpx.Request], httpx.Response]
Frame = WireModel | dict[str, Any]
"""An event or snapshot to send: a protocol model, or a raw dict (a newer server's frame)."""


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


def reply(model: WireModel, status_code: int = 200, **kwargs: Any) -> httpx.Response:
    """An HTTP response whose body is ``model``'s JSON form."""
    return httpx.Response(status_code, json=model.model_dump(mode="json"), **kwargs)


def sse(frame: Frame) -> bytes:
    """One Server-Sent Event frame (with an ``id:`` line when the frame has an id)."""
    data = frame.model_dump(mode="json") if isinstance(frame, WireModel) else frame
    head = f"id: {data['id']}\n" if data.get("id") is not None else ""
    return f"{head}event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


class FakeServer:
    """An agent server for ``httpx.MockTransport``: canned replies per route, one session's
    event stream, and a record of every request.

    ``routes`` maps ``"METHOD /path"`` to a protocol model (answered 200) or to a handler.
    ``GET /sessions/{id}/events`` answers a snapshot of ``status``, then the ``backlog``
    events, then — once a message is posted — the ``turn`` events. Unknown routes answer 404.
    """

    def __init__(self, session_id: str = "s1", status: str = "connected") -> None:
        self.session_id = session_id
        self.status = SessionStatusView(
            session_id=session_id, status=status, permission_mode="default", last_event_id=BIG_ID, cwd="/w",  # type: ignore[arg-type]
        )
        self.routes: dict[str, WireModel | Handler] = {
            "GET /health": Health(status="healthy", active_sessions=1, timestamp=NOW),
            f"GET /sessions/{session_id}/status": lambda request: reply(self.status),
            f"GET /sessions/{session_id}/history": SessionHistory(session_id=session_id, messages=[]),
            f"POST /sessions/{session_id}/messages": self._post_message,
        }
        self.backlog: list[Frame] = []
        self.turn: list[Frame] = []
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
        return reply(route) if isinstance(route, WireModel) else route(request)

    def _post_message(self, request: httpx.Request) -> httpx.Response:
        self._posted.set()
        return reply(TurnReply(session_id=self.session_id, result="ok", num_turns=1))

    async def _stream(self) -> AsyncIterator[bytes]:
        yield sse(StatusSnapshot.model_validate(self.status.model_dump()))
        for event in self.backlog:
            yield sse(event)
        await self._posted.wait()
        for event in self.turn:
            yield sse(event)
        await asyncio.Event().wait()  # an open stream: it ends only when the client leaves


def events(session_id: str, *items: tuple[int, str, dict[str, Any]]) -> list[WireModel]:
    """Protocol events from ``(id offset from BIG_ID, type, fields)`` triples, built by the
    protocol's ``parse_event`` (a missing or mistyped field fails here; a field the contract
    lacks is dropped, so the fake sends only what the contract has)."""
    return [
        parse_event({"id": BIG_ID + offset, "type": kind, "session_id": session_id, "created_at": NOW, **fields})
        for offset, kind, fields in items
    ]
