"""Request body limits: a pure ASGI middleware answering 413 before a large body is held in memory."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .surfaces import Surface, error_response, surface_of


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
            OpenAI's (``/v1/chat/completions``). Every 413 has its surface's error shape
            (:mod:`.surfaces`).
    """

    def __init__(self, app: ASGIApp, limit: int, model_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.model_limit = model_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        shape = surface_of(scope["path"])
        limit = self.model_limit if shape in ("anthropic", "openai") else self.limit
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, limit, shape)
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
                await _refuse(scope, receive, send, limit, shape)


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int, shape: Surface) -> None:
    response = error_response(shape, 413, f"the request body is larger than {limit} bytes", code="request_too_large")
    await response(scope, receive, send)
