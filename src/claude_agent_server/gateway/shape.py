"""OpenAI's error shape on every ``/v1`` path of the OpenAI surface (all but ``/v1/messages*``).

The gateway's own routes raise :class:`.errors.GatewayError`, and the middlewares that answer
before a route (auth, body limits, content type, Host and Origin) already speak each
surface's shape (:mod:`..web.surfaces`). What is left is what the framework answers in its
own ``{"detail": ...}`` shape: an unknown path (404), a method a path does not take (405),
a query parameter that does not validate (422), and the server-wide handlers (registry
unavailable 503, internal error 500). :class:`OpenAIErrors`, the outermost middleware,
rewrites those bodies into ``{"error": {"message", "type", "param", "code"}}``, status and
headers unchanged, so the ``openai`` SDK raises ``NotFoundError`` & co. with a useful message.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..web.surfaces import error_body, surface_of

SERVED = "/v1/models, /v1/chat/completions, /v1/responses and /v1/messages"
"""What the unknown-path message lists."""


def openai_error(status: int, detail: Any, method: str, path: str) -> dict[str, Any]:
    """The OpenAI-shaped body replacing a ``{"detail": detail}`` body."""
    param = None
    if status == 404 and detail == "Not Found":
        message, code = f"Invalid URL ({method} {path}): this server's OpenAI-compatible API serves {SERVED}", "unknown_url"
    elif status == 405:
        message, code = f"Method {method} is not allowed on {path}", "method_not_allowed"
    elif isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = [str(part) for part in first.get("loc") or [] if part not in ("query", "path", "body", "header")]
        param = loc[-1] if loc else None
        message, code = f"{'.'.join(loc) or 'request'}: {first.get('msg', 'invalid')}", "invalid_value"
    else:
        message, code = str(detail), None
    body = error_body("openai", status, message, code)
    body["error"]["param"] = param  # type: ignore[index]
    return body


class OpenAIErrors:
    """Rewrites ``{"detail": ...}`` error bodies on the OpenAI surface's paths (see the module docstring).

    Args:
        app: The ASGI app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or surface_of(scope.get("path", "")) != "openai":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewriting(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                if message["status"] >= 400 and headers.get("content-type", "").startswith("application/json"):
                    start = message  # held until the body is complete
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and "detail" in parsed and "error" not in parsed:
                body = json.dumps(openai_error(start["status"], parsed["detail"], scope["method"], scope["path"])).encode()
                headers = MutableHeaders(raw=start["headers"])
                headers["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewriting)


__all__ = ["OpenAIErrors", "openai_error"]
