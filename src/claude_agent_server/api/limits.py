"""Request body limits: a pure ASGI middleware answering 413 before a large body is held in memory."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for a request whose body exceeds its limit, checked on ``Content-Length``
    and again while the body streams in (chunked uploads).

    Args:
        app: The ASGI app.
        limit: Bytes a request body may have.
        model_limit: Bytes for the model routes, whose image-bearing requests are
            larger: the Anthropic Messages routes (``/v1/messages*``, ``/demo/v1/...``) and
            OpenAI's ``/v1/chat/completions``; their 413 has the matching error shape.
    """

    def __init__(self, app: ASGIApp, limit: int, model_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.model_limit = model_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        shape = _shape(scope["path"])
        limit = self.limit if shape is None else self.model_limit
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit, shape)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _refuse(send, limit, shape)


def _shape(path: str) -> str | None:
    """Whose error shape a model route's 413 takes; None for the server's own routes."""
    if path.startswith(("/v1/messages", "/demo/v1/")):
        return "anthropic"
    return "openai" if path.startswith("/v1/chat/completions") else None


async def _refuse(send: Send, limit: int, shape: str | None) -> None:
    message = f"the request body is larger than {limit} bytes"
    body: dict[str, object] = {"detail": message}
    if shape == "anthropic":
        body = {"type": "error", "error": {"type": "request_too_large", "message": message}}
    elif shape == "openai":
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "request_too_large"}}
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
