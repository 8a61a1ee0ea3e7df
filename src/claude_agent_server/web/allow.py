"""The ``Allow`` header of a 405, right for every path.

Starlette answers 405 from the first route whose path matches, with that route's methods
only: ``OPTIONS /sessions`` said ``Allow: POST`` although ``GET /sessions`` exists too.
:class:`AllowHeader` rewrites the header of every 405 to the methods the OpenAPI document
lists for the path's resource: of the templates the path matches, those with the fewest
parameters (``/session/status`` is its own resource, not ``/session/{id}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AllowHeader", "method_table"]

METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")


def method_table(openapi: dict[str, Any]) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each path template of an OpenAPI document as a regex (a ``{param}`` is one segment), with its methods."""
    table = []
    for template, operations in openapi.get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$"
        table.append((re.compile(pattern), frozenset(m.upper() for m in operations if m.upper() in METHODS)))
    return table


class AllowHeader:
    """On a 405, ``Allow`` lists every method the document declares for the request's path.

    Args:
        app: The ASGI app.
        openapi: Returns the app's OpenAPI document (read on the first 405, then kept).
    """

    def __init__(self, app: ASGIApp, openapi: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self._openapi = openapi
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def allowed(self, path: str) -> list[str]:
        """The methods declared for ``path``, in a stable order."""
        if self._table is None:
            self._table = method_table(self._openapi())
        matches = [(regex.pattern.count("[^/]+"), methods) for regex, methods in self._table if regex.match(path)]
        if not matches:
            return []
        fewest = min(params for params, _ in matches)  # /session/status over /session/{id}: the path's own resource
        found = set().union(*(methods for params, methods in matches if params == fewest))
        return [m for m in METHODS if m in found]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = self.allowed(scope["path"])
                if allowed:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                    message = {**message, "headers": [*headers, (b"allow", ", ".join(allowed).encode())]}
            await send(message)

        await self.app(scope, receive, send_with_allow)
