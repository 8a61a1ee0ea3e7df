"""The upstream pass-through: ``POST /upstream/v1/messages`` (and ``/count_tokens``), byte for byte.

A sandboxed session's CLI holds no credential of the server: its ``ANTHROPIC_BASE_URL``
is ``<this server>/upstream`` and its key is the session's model key. The server forwards
each request to the Anthropic-native upstream it is configured with (``ANTHROPIC_BASE_URL``,
default ``https://api.anthropic.com``) with its own ``ANTHROPIC_API_KEY`` (``x-api-key``)
or ``ANTHROPIC_AUTH_TOKEN`` (``Authorization: Bearer``), and streams the answer back as
it arrives: status, body and the headers a client reads. The path is fixed (two routes),
so no request picks where the server connects.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from ..proxy import ProxyError
from ..web.responses import SSE
from ..web.state import server_state
from .proxy import ERRORS, MESSAGES_BODY, require_proxy_key

DEFAULT_UPSTREAM = "https://api.anthropic.com"
REQUEST_HEADERS = ("content-type", "accept", "anthropic-version", "anthropic-beta", "user-agent", "x-app")
"""Request headers passed on; every other one (the session's key among them) stays here."""
RESPONSE_HEADERS = ("content-type", "request-id", "anthropic-ratelimit-unified-status", "retry-after", "x-should-retry")

router = APIRouter(tags=["proxy"], dependencies=[Depends(require_proxy_key)], responses=ERRORS)


class UpstreamUnreachable(ProxyError):
    status_code = 502
    error_type = "api_error"


class NoUpstream(ProxyError):
    status_code = 404
    error_type = "not_found_error"


@dataclass(slots=True)
class Upstream:
    """Where sandboxed sessions' model calls go, with the server's credential."""

    base_url: str
    headers: dict[str, str]
    client: httpx.AsyncClient

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Upstream:
        """The upstream the server's own environment names (as Claude Code would read it)."""
        env = os.environ if environ is None else environ
        headers: dict[str, str] = {}
        if env.get("ANTHROPIC_API_KEY"):
            headers["x-api-key"] = env["ANTHROPIC_API_KEY"]
        elif env.get("ANTHROPIC_AUTH_TOKEN"):
            headers["authorization"] = f"Bearer {env['ANTHROPIC_AUTH_TOKEN']}"
        base = (env.get("ANTHROPIC_BASE_URL") or DEFAULT_UPSTREAM).rstrip("/")
        return cls(base, headers, httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=10.0)))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def forward(self, request: Request, path: str) -> Response:
        """Send ``request``'s body to ``base_url + path`` (its query kept); the answer streamed back."""
        headers = {name: value for name in REQUEST_HEADERS if (value := request.headers.get(name)) is not None}
        outgoing = self.client.build_request(
            "POST", self.base_url + path, params=request.query_params, headers=headers | self.headers, content=request.stream()
        )
        try:
            answer = await self.client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            raise UpstreamUnreachable(f"the model upstream could not be reached: {type(exc).__name__}") from None

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in answer.aiter_raw():
                    yield chunk
            finally:
                await answer.aclose()

        kept = {name: value for name in RESPONSE_HEADERS if (value := answer.headers.get(name)) is not None}
        return StreamingResponse(body(), status_code=answer.status_code, headers=kept | {"X-Accel-Buffering": "no"})


def _upstream(request: Request) -> Upstream:
    upstream = server_state(request.app).upstream
    if upstream is None:
        raise NoUpstream("this server forwards no model traffic (its sessions are not sandboxed)")
    return upstream


@router.post("/upstream/v1/messages", response_model=None, openapi_extra=MESSAGES_BODY, responses=SSE)
async def upstream_messages(request: Request) -> Response:
    """A sandboxed session's model call, forwarded byte for byte to the server's upstream with the server's key.

    Errors: 401 missing key; 404 sessions are not sandboxed (nothing is forwarded); 502 the upstream cannot be reached; the upstream's own statuses as they are.
    """
    return await _upstream(request).forward(request, "/v1/messages")


COUNTED = {200: {"content": {"application/json": {"schema": {
    "type": "object", "description": "The upstream's count", "properties": {"input_tokens": {"type": "integer"}},
}}}}}


@router.post("/upstream/v1/messages/count_tokens", response_model=None, openapi_extra=MESSAGES_BODY, responses=COUNTED)
async def upstream_count_tokens(request: Request) -> Response:
    """``count_tokens`` of a sandboxed session, forwarded to the server's upstream."""
    return await _upstream(request).forward(request, "/v1/messages/count_tokens")
