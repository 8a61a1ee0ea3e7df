"""Refusals decided from a request's headers alone, before its body is read: pure ASGI middlewares.

* :class:`JsonBodies` — 415 for a body that is not JSON. Browsers send ``text/plain``,
  ``application/x-www-form-urlencoded`` and ``multipart/form-data`` across sites without
  a CORS preflight; no route here takes those, so no page on another site can post to one.
* :class:`BrowserGuard` — 400 for a ``Host`` this server does not answer to (DNS
  rebinding: a page on ``evil.example`` whose name resolves to 127.0.0.1) and, when
  the server has no API key, 403 for a request from a page of another origin.

Every refusal has the error shape of the path's surface (:mod:`.surfaces`).
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .surfaces import error_response, surface_of

DEFAULT_PORTS = {"http": 80, "https": 443}


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/<anything>+json``, any parameters (``charset``), any case."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def has_body(headers: Headers) -> bool:
    """Whether a request declares a non-empty body (``Content-Length`` above 0, or a chunked body)."""
    length = headers.get("content-length", "").strip()
    if length:
        return length.strip("0") != ""
    return "transfer-encoding" in headers


class JsonBodies:
    """415 for a request with a non-empty body whose ``Content-Type`` is not JSON.

    Requests without a body (``Content-Length: 0`` or none: ``POST .../interrupt``)
    pass whatever their ``Content-Type``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            if has_body(headers) and not is_json_media_type(headers.get("content-type", "")):
                message = "the request body must be JSON: send it with Content-Type: application/json"
                response = error_response(surface_of(scope["path"]), 415, message, code="unsupported_media_type")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def host_name(host: str) -> str:
    """The name or address of a ``Host`` value (or a URL's host), lower case, without port,
    brackets or trailing dot: ``[::1]:8000`` → ``::1``, ``LocalHost.:80`` → ``localhost``."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


@functools.lru_cache(maxsize=256)
def is_loopback_name(name: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761: always loopback), ``127.0.0.0/8`` or ``::1``."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin(value: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an origin, the scheme's default port filled in; None when unusable."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, host_name(parts.hostname), port if port is not None else DEFAULT_PORTS.get(scheme)


class BrowserGuard:
    """The ``Host`` and ``Origin`` checks that keep web pages of other sites out.

    Args:
        app: The ASGI app.
        check_host: Apply the ``Host`` rule: a request whose ``Host`` is not a loopback
            name, the bound address (``bound_host``, or the address the connection
            reached), or one of ``allowed_hosts`` is 400. A request without ``Host``
            (HTTP/1.0; browsers always send one) passes.
        check_origin: Apply the ``Origin`` rule: a request carrying an ``Origin`` that is
            neither the server's own (``scheme://Host`` of the request) nor one of
            ``cors_origins`` is 403. Requests without ``Origin`` (curl, SDKs, the CLIs) pass.
        bound_host: The address the server binds (``--host``).
        allowed_hosts: Host names (port-agnostic) also served; ``*.example.com`` matches
            its subdomains, ``*`` any host.
        cors_origins: Origins allowed by CORS; ``*`` allows any.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        check_host: bool,
        check_origin: bool,
        bound_host: str,
        allowed_hosts: list[str] | None = None,
        cors_origins: list[str] | None = None,
    ) -> None:
        self.app = app
        self.check_host = check_host
        self.check_origin = check_origin
        self.bound_host = host_name(bound_host)
        hosts = [host_name(h) if h.strip() != "*" else "*" for h in allowed_hosts or []]
        self.any_host = "*" in hosts
        self.hosts = frozenset(h for h in hosts if not h.startswith("*"))
        self.host_suffixes = tuple(h[1:] for h in hosts if h.startswith("*.") and len(h) > 2)
        origins = cors_origins or []
        self.any_origin = "*" in origins
        self.origins = frozenset(o for o in map(_origin, origins) if o is not None)

    def host_allowed(self, name: str, scope: Scope) -> bool:
        """Whether ``name`` (see :func:`host_name`) is a host this server answers to."""
        if self.any_host or is_loopback_name(name) or name == self.bound_host or name in self.hosts:
            return True
        server = scope.get("server")
        if server and name == host_name(str(server[0])):
            return True
        return bool(self.host_suffixes) and name.endswith(self.host_suffixes)

    def origin_allowed(self, origin: str, host: str, scope: Scope) -> bool:
        """Whether a request from ``origin`` may proceed: the server's own origin or a CORS origin."""
        if self.any_origin:
            return True
        parsed = _origin(origin)
        if parsed is None:
            return False  # "null" (sandboxed frames, file: pages) or garbage
        if parsed in self.origins:
            return True
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
        return bool(host) and parsed == _origin(f"{scheme}://{host}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not (self.check_host or self.check_origin):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        refusal: tuple[int, str] | None = None
        if self.check_host and host and not self.host_allowed(host_name(host), scope):
            refusal = (400, f"the Host {host[:200]!r} is not served here (DNS rebinding protection): use localhost or "
                       "this server's address, or add the name to --allowed-hosts")
        elif self.check_origin and (origin := headers.get("origin")) is not None and not self.origin_allowed(origin, host, scope):
            refusal = (403, f"a page from {origin[:200]!r} may not call this server: it has no API key, so only its own "
                       "pages and the origins in --cors-origins may (requests without Origin, such as curl's, pass)")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # a page's WebSocket carries Origin too
            await send({"type": "websocket.close", "code": 1008})  # before accepting: an HTTP 403
            return
        status, message = refusal
        code = "invalid_host" if status == 400 else "cross_origin_refused"
        await error_response(surface_of(scope["path"]), status, message, code=code)(scope, receive, send)
