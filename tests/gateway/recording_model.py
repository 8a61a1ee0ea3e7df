"""The demo model behind a recorder: an Anthropic-compatible server on 127.0.0.1 that keeps
every ``/v1/messages`` request body, so a test can see exactly what the model received.

It serves the server's own demo router (``claude_agent_server.demo.routes``: the
scripted replies, streaming included) without auth, in a uvicorn thread. Point a
server started *without* ``--demo`` at it with ``ANTHROPIC_BASE_URL=<url>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claude_agent_server.demo import router as demo_router
from servers import free_port, serving


class RecordingModel:
    """``url`` (the base URL for ``ANTHROPIC_BASE_URL``) and ``requests`` (message request bodies, oldest first)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/demo"
        self.requests: list[dict[str, Any]] = []
        app = FastAPI()
        app.include_router(demo_router)
        self.app: ASGIApp = self._recorder(app)

    def _recorder(self, app: ASGIApp) -> ASGIApp:
        async def record(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not scope["path"].endswith("/v1/messages"):
                await app(scope, receive, send)
                return
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            try:
                self.requests.append(json.loads(body))
            except ValueError:
                pass
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await app(scope, replay, send)

        return record

    def requests_with(self, text: str) -> list[dict[str, Any]]:
        """Requests whose messages contain ``text`` anywhere (the CLI's side calls excluded by the caller)."""
        return [r for r in self.requests if text in json.dumps(r.get("messages", []))]


@contextmanager
def recording_model() -> Iterator[RecordingModel]:
    """Run a :class:`RecordingModel` in a thread for the duration of the block."""
    model = RecordingModel()
    with serving(model.app, model.port, "recording-model"):
        yield model
