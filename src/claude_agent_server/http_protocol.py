"""uvicorn's httptools protocol with the limits it lacks: header size, header time, body idleness.

uvicorn 0.54 with httptools caps neither the size of a request's headers nor the
time they may take, and never times out a body that stops arriving. httptools also
joins the pieces of a long header with ``bytes +=``, so one 60 MB header cost seconds
of the event loop (every other request waited). :class:`GuardedHttpToolsProtocol`
keeps uvloop and httptools and adds:

* **Header size**: at most ``max_header_bytes`` (64 KiB) from a request's first byte
  to the end of its headers (request line included). The parser is never fed more:
  past it the answer is ``431 Request Header Fields Too Large`` and the connection
  closes. (A pipelined request that starts inside the same read as the previous
  request's end may overshoot by up to that one read.)
* **Header time**: a connection must finish a request's headers within
  ``header_timeout`` seconds of the request's first byte (of connecting, for its
  first request); else ``408 Request Timeout`` and close. Idle keep-alive time
  between requests stays uvicorn's ``timeout_keep_alive``.
* **Body idleness**: once the headers are in, the body may pause at most
  ``body_timeout`` seconds between two pieces; then the connection closes (the app
  sees ``http.disconnect``). Time during which the server itself stops reading
  (flow control, a queued pipelined request) does not count. An idle limit rather
  than a total one: a slow but moving upload of a large body is never cut, and one
  that stalls is. This also ends a request whose body was refused before it
  arrived (401, 413, 415) but whose client never sends it.

Use :func:`guarded_http` to make the class for ``uvicorn.Config(http=...)``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
"""Bytes a request's line and headers may have together (431 beyond)."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a header size cap, a header timeout and a body idle timeout
    (class attributes; see the module docstring and :func:`guarded_http`)."""

    max_header_bytes: int = MAX_HEADER_BYTES
    header_timeout: float = 10.0
    body_timeout: float = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_headers = True
        self._begun = False
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_seen = 0.0

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()  # a connection that never sends a request is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        while data and not self.transport.is_closing():
            if not self._in_headers:
                self._body_seen = self.loop.time()
                super().data_received(data)
                return
            room = self.max_header_bytes - self._header_bytes
            piece, data = (data, b"") if len(data) <= room else (data[:room], data[room:])
            self._header_bytes += len(piece)
            super().data_received(piece)
            if self._in_headers and self._header_bytes >= self.max_header_bytes and not self.transport.is_closing():
                log.warning("request headers over %d bytes from %s: 431", self.max_header_bytes, self.client)
                self._refuse(431, f"request headers are larger than {self.max_header_bytes} bytes")
                return

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = True
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._cancel_header_timer()
        super().on_headers_complete()
        if self.parser.should_upgrade() and self._should_upgrade():
            return  # a WebSocket protocol takes the connection over
        self._body_seen = self.loop.time()
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_timeout_check)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers = True
        self._begun = False
        self._header_bytes = 0
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    # Timers

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout_expired)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_header_timer()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _header_timeout_expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._in_headers:
            return
        if not self._begun:
            self.transport.close()  # a connection that never sent a request: nothing to answer
            return
        log.debug("request headers not complete after %s s from %s: 408", self.header_timeout, self.client)
        self._refuse(408, f"request headers not complete within {self.header_timeout:g} seconds")

    def _body_timeout_check(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self._in_headers:
            return
        now = self.loop.time()
        if self.flow.read_paused:  # the server is not reading: not the client's delay
            self._body_seen = now
        idle = now - self._body_seen
        if idle < self.body_timeout:
            self._body_timer = self.loop.call_later(self.body_timeout - idle, self._body_timeout_check)
            return
        log.debug("request body idle for %s s from %s: closing", self.body_timeout, self.client)
        self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a plain-text ``message`` and close; only close while an earlier
        (pipelined) request's answer is still going out, which these bytes would corrupt."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        body = message.encode()
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ])
        self.transport.write(b"".join(content))
        self.transport.close()


def guarded_http(
    max_header_bytes: int = MAX_HEADER_BYTES, header_timeout: float = 10.0, body_timeout: float = 60.0
) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these limits (bytes, seconds, seconds)."""
    limits = {"max_header_bytes": max_header_bytes, "header_timeout": header_timeout, "body_timeout": body_timeout}
    return type("GuardedHttp", (GuardedHttpToolsProtocol,), limits)
