"""Any node serves any request: a request for a session live on another node is forwarded there.

The session layer raises :class:`~..sessions.errors.SessionElsewhere` wherever a session is
looked up (``SessionManager.get``, a wake) and its lease is held by another live node; the
handler installed here sends the same request (method, path, query, headers, body) to that
node's URL, as the registry gives it (never from the request), and streams its answer back
unchanged: status, headers and body, SSE included. Every route that finds its session through
the manager gets this for free.

A forwarded request carries ``X-Agent-Server-Forwarded: <node id>``; it is never forwarded
again, so there is no loop: a node that gets one for a session it does not hold (the sender's
idea of the owner was stale, see ``sessions/owners.py``) answers 503 with ``Retry-After: 1`` and
``X-Agent-Server-Not-Owner: <the holder>``, and the sender asks the registry again and retries
once with the node it names.
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
from ..sessions.owners import OwnerLookup

__all__ = ["FORWARDED_HEADER", "NOT_OWNER_HEADER", "CaptureBody", "Forwarder", "install"]

log = logging.getLogger(__name__)

FORWARDED_HEADER = "x-agent-server-forwarded"
NOT_OWNER_HEADER = "x-agent-server-not-owner"
"""On a 503 to a forwarded request: this node does not hold the session (the header names the node that does)."""
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

    Requests go straight to an httpx transport (a pool of kept-alive HTTP/1.1 connections):
    the client layer's cookie jar, auth and redirect handling have nothing to do on a hop,
    and a cookie jar shared by every forwarded request must not exist.

    Args:
        node_id: This node's id, sent in :data:`FORWARDED_HEADER`.
        owners: Where session owners are looked up; the entry of a session whose owner
            does not answer, or answers that it is not the owner, is dropped there (None: no cache).
        connect_timeout: Seconds to connect to another node.
    """

    def __init__(self, node_id: str, owners: OwnerLookup | None = None, connect_timeout: float = 5.0) -> None:
        self.node_id = node_id
        self.owners = owners
        self._timeout = httpx.Timeout(connect=connect_timeout, read=None, write=60.0, pool=connect_timeout).as_dict()
        # Connections are kept and reused (no connect per hop); an idle one is dropped before the
        # other node's uvicorn closes it (``timeout_keep_alive``, 5 s), so no request is sent on a
        # connection that node is closing.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=KEEPALIVE_EXPIRY)
        self.transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)

    async def close(self) -> None:
        await self.transport.aclose()

    async def forward(self, request: Request, exc: SessionElsewhere) -> Response:
        """Send ``request`` to the node holding the session; its answer, streamed.

        A node that does not answer, or answers that it does not hold the session (its lease
        moved since it was looked up), has its entry dropped from :attr:`owners`; after a
        refusal the registry is asked again and the request sent once more to the node it
        names. Otherwise (or when that fails too) the answer is 503 with ``Retry-After: 1``.
        """
        if request.headers.get(FORWARDED_HEADER) is not None:
            return _moving(exc, refused=True)  # sent here as the owner, which this node is not (any more)
        body = bytes(request.scope.get(_BODY, b""))
        if not request.scope.get(_DONE):
            body += b"".join([chunk async for chunk in request.stream()])
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.url.query:
            path += "?" + request.url.query
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in _HOP_BY_HOP]
        headers.append((FORWARDED_HEADER.encode(), self.node_id.encode()))
        target: SessionElsewhere | None = exc
        for _attempt in range(2):
            if target is None or not target.url:
                break
            outgoing = httpx.Request(request.method, target.url.rstrip("/") + path, headers=headers, content=body,
                                     extensions={"timeout": self._timeout})
            try:
                answer = await self.transport.handle_async_request(outgoing)
            except httpx.TransportError as error:
                log.warning("forwarding %s %s to node %s failed: %r", request.method, request.url.path, target.node_id, error)
                self._forget(exc.session_id)
                return _moving(target, unreachable=True)
            if answer.status_code != 503 or NOT_OWNER_HEADER not in answer.headers:
                response = StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, background=BackgroundTask(answer.aclose))
                response.raw_headers = [(k, v) for k, v in answer.headers.raw if k.lower() not in _RESPONSE_DROPPED]
                return response
            await answer.aclose()
            self._forget(exc.session_id)
            target = await self._fresh(target)
        return _moving(exc)

    def _forget(self, session_id: str) -> None:
        if self.owners is not None:
            self.owners.forget(session_id)

    async def _fresh(self, stale: SessionElsewhere) -> SessionElsewhere | None:
        """The node the registry names now, when it is another one than ``stale``'s."""
        if self.owners is None:
            return None
        try:
            holder = await self.owners.owner(stale.session_id, fresh=True)
        except Exception as error:  # the registry's outage: the client retries
            log.warning("looking up the owner of session %s failed: %s", stale.session_id, error)
            return None
        if holder is None or holder.dead or holder.node_id == stale.node_id:  # a dead one: the retry takes it over
            return None
        return SessionElsewhere(stale.session_id, holder.node_id, holder.url)


def _moving(exc: SessionElsewhere, unreachable: bool = False, refused: bool = False) -> JSONResponse:
    why = f"node {exc.node_id} does not answer" if unreachable else f"it is on node {exc.node_id}"
    detail = f"session {exc.session_id} cannot be served here now ({why}); retry"
    headers = {"Retry-After": "1"}
    if refused:
        headers[NOT_OWNER_HEADER] = exc.node_id
    return JSONResponse({"detail": detail}, status_code=503, headers=headers)


def install(app: FastAPI, forwarder_of: object) -> None:
    """Register the :class:`SessionElsewhere` handler; ``forwarder_of(app)`` gives the server's :class:`Forwarder`."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SessionElsewhere)
        return await forwarder_of(request.app).forward(request, exc)  # type: ignore[operator]

    app.add_exception_handler(SessionElsewhere, handle)
