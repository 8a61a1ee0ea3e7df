"""Any node serves any request: a request for a session live on another node is forwarded there.

The session layer raises :class:`~..sessions.errors.SessionElsewhere` wherever a session is
looked up (``SessionManager.get``, a wake) and its lease is held by another live node; the
handler installed here sends the same request (method, path, query, headers, body) to that
node's URL, as the registry gives it (never from the request), and streams its answer back
unchanged: status, headers and body, SSE included. Every route that finds its session through
the manager gets this for free.

A forwarded request carries ``X-Agent-Server-Forwarded: <node id>``; it is never forwarded
again (a session that moved meanwhile is 503 with ``Retry-After: 1``), so there is no loop.
:class:`CaptureBody` keeps a copy of the request body as the route reads it, so the handler can
send it on.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..sessions.errors import SessionElsewhere

__all__ = ["FORWARDED_HEADER", "CaptureBody", "Forwarder", "install"]

log = logging.getLogger(__name__)

FORWARDED_HEADER = "x-agent-server-forwarded"
_BODY, _DONE = "agent_server.body", "agent_server.body_done"
_HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer", b"trailers",
    b"transfer-encoding", b"upgrade", b"host", b"content-length", FORWARDED_HEADER.encode(),
})
KEEPALIVE_EXPIRY = 4.0
"""Seconds an idle connection to another node is kept (under uvicorn's 5 s keep-alive)."""
_RESPONSE_DROPPED = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"trailer", b"upgrade", b"date", b"server"})


class CaptureBody:
    """ASGI middleware: a copy of the request body, as the app reads it, in the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = scope[_BODY] = bytearray()

        async def capture() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    scope[_DONE] = True
            return message

        await self.app(scope, capture, send)


class Forwarder:
    """The HTTP client for hops between nodes (one per server; :meth:`close` at the end).

    Args:
        node_id: This node's id, sent in :data:`FORWARDED_HEADER`.
        connect_timeout: Seconds to connect to another node.
    """

    def __init__(self, node_id: str, connect_timeout: float = 5.0) -> None:
        self.node_id = node_id
        timeout = httpx.Timeout(connect=connect_timeout, read=None, write=60.0, pool=connect_timeout)
        # Connections are kept and reused (no connect per hop); an idle one is dropped before the
        # other node's uvicorn closes it (``timeout_keep_alive``, 5 s), so no request is sent on a
        # connection that node is closing.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=KEEPALIVE_EXPIRY)
        self.client = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False)

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(self, request: Request, exc: SessionElsewhere) -> Response:
        """Send ``request`` to the node holding the session; its answer, streamed."""
        if request.headers.get(FORWARDED_HEADER) is not None or not exc.url:
            return _moving(exc)
        body = bytes(request.scope.get(_BODY, b""))
        if not request.scope.get(_DONE):
            body += b"".join([chunk async for chunk in request.stream()])
        target = exc.url.rstrip("/") + request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.url.query:
            target += "?" + request.url.query
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in _HOP_BY_HOP]
        headers.append((FORWARDED_HEADER.encode(), self.node_id.encode()))
        outgoing = self.client.build_request(request.method, target, headers=headers, content=body)
        try:
            answer = await self.client.send(outgoing, stream=True)
        except httpx.TransportError as error:
            log.warning("forwarding %s %s to node %s failed: %r", request.method, request.url.path, exc.node_id, error)
            return _moving(exc, unreachable=True)
        response = StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, background=BackgroundTask(answer.aclose))
        response.raw_headers = [(k, v) for k, v in answer.headers.raw if k.lower() not in _RESPONSE_DROPPED]
        return response


def _moving(exc: SessionElsewhere, unreachable: bool = False) -> JSONResponse:
    why = f"node {exc.node_id} does not answer" if unreachable else f"it is on node {exc.node_id}"
    detail = f"session {exc.session_id} cannot be served here now ({why}); retry"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


def install(app: FastAPI, forwarder_of: object) -> None:
    """Register the :class:`SessionElsewhere` handler; ``forwarder_of(app)`` gives the server's :class:`Forwarder`."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SessionElsewhere)
        return await forwarder_of(request.app).forward(request, exc)  # type: ignore[operator]

    app.add_exception_handler(SessionElsewhere, handle)
