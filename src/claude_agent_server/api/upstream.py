"""The upstream pass-through of sandboxed sessions: ``/upstream/...``, byte for byte, streamed.

A sandboxed session's CLI holds no credential of the server: it reaches the model through
these routes with its session's model key, and the server sends each request on to its own
upstream with its own credentials (see :mod:`claude_agent_server.upstream`):

- ``POST /upstream/v1/messages`` (and ``/count_tokens``): Anthropic-native (``ANTHROPIC_BASE_URL``),
  with the server's API key, auth token or Claude Code OAuth login;
- ``POST /upstream/bedrock/model/{model}/{invoke|invoke-with-response-stream|count-tokens}``:
  Amazon Bedrock, re-signed with SigV4 (Bedrock's event-stream framing passes through as it is);
- ``POST /upstream/vertex/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:{rawPredict|streamRawPredict}``:
  Vertex AI, with a Google access token.

The paths are fixed shapes with validated ids; the host is the server's own configuration's,
never chosen by a request. Status, body and the headers a client reads come back as the
upstream sent them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Literal

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.convertors import Convertor, register_url_convertor

from ..proxy import InvalidRequest
from ..upstream import NoCredentials, NoUpstream, Upstream, UpstreamCredentialsMissing
from ..upstream.bedrock import BedrockUpstream
from ..upstream.vertex import VertexUpstream
from ..web.responses import SSE
from ..web.state import server_state
from .proxy import ERRORS, MESSAGES_BODY, require_proxy_key

REQUEST_HEADERS = ("content-type", "accept", "anthropic-version", "anthropic-beta", "user-agent", "x-app")
"""Request headers passed on to an Anthropic upstream; every other one (the session's key among them) stays here."""
RESPONSE_HEADERS = (
    "content-type", "request-id", "anthropic-ratelimit-unified-status", "retry-after", "x-should-retry",
    "x-amzn-requestid", "x-amzn-errortype", "x-amzn-bedrock-input-token-count", "x-amzn-bedrock-output-token-count",
    "x-amzn-bedrock-invocation-latency",
)
"""Response headers passed back (Anthropic's, Bedrock's)."""

router = APIRouter(tags=["proxy"], dependencies=[Depends(require_proxy_key)], responses=ERRORS)


class Segments(Convertor[str]):
    """Any text, slashes and line breaks included (Starlette's ``path`` stops at a line break): a
    Bedrock model id may be an ARN (``.../application-inference-profile/<id>``), and whatever
    the text, the route answers (400 for an id it refuses) rather than the router's bare 404."""

    regex = r"[\s\S]+?"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("segments", Segments())


def _upstream(request: Request) -> Upstream:
    upstream = server_state(request.app).upstream
    if upstream is None:
        raise NoUpstream("this server forwards no model traffic (its sessions are not sandboxed)")
    return upstream


def _relay(answer: httpx.Response) -> StreamingResponse:
    """The upstream's answer streamed back as it arrives (raw bytes: SSE or Bedrock's event stream)."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in answer.aiter_raw():
                yield chunk
        finally:
            await answer.aclose()

    kept = {name: value for name in RESPONSE_HEADERS if (value := answer.headers.get(name)) is not None}
    return StreamingResponse(body(), status_code=answer.status_code, headers=kept | {"X-Accel-Buffering": "no"})


def _passed(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {name: value for name in names if (value := request.headers.get(name)) is not None}


async def _authenticated(sign: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Headers from a blocking credential step (botocore or google-auth may refresh over the network)."""
    try:
        return await asyncio.to_thread(sign)
    except NoCredentials as exc:
        raise UpstreamCredentialsMissing(str(exc)) from None


async def _anthropic(request: Request, path: str) -> Response:
    upstream = _upstream(request)
    if upstream.anthropic is None:
        raise NoUpstream("this server's upstream is not Anthropic's API (see /upstream/bedrock or /upstream/vertex)")
    headers = _passed(request, REQUEST_HEADERS)
    headers |= await asyncio.to_thread(upstream.anthropic.credential, headers.get("anthropic-beta"))
    url = upstream.anthropic.base_url + path
    return _relay(await upstream.send(url, headers, request.stream(), params=request.query_params))


@router.post("/upstream/v1/messages", response_model=None, openapi_extra=MESSAGES_BODY, responses=SSE)
async def upstream_messages(request: Request) -> Response:
    """A sandboxed session's model call, forwarded byte for byte to the server's Anthropic upstream with the server's credential.

    Errors: 401 missing key; 404 sessions are not sandboxed, or the upstream is not Anthropic's; 502 the
    upstream cannot be reached; the upstream's own statuses as they are.
    """
    return await _anthropic(request, "/v1/messages")


COUNTED = {200: {"content": {"application/json": {"schema": {
    "type": "object", "description": "The upstream's count", "properties": {"input_tokens": {"type": "integer"}},
}}}}}


@router.post("/upstream/v1/messages/count_tokens", response_model=None, openapi_extra=MESSAGES_BODY, responses=COUNTED)
async def upstream_count_tokens(request: Request) -> Response:
    """``count_tokens`` of a sandboxed session, forwarded to the server's Anthropic upstream."""
    return await _anthropic(request, "/v1/messages/count_tokens")


RAW_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "The provider's request body, forwarded as it is",
}}}}}
STREAMED = {200: {"description": "The provider's answer as it is (JSON, or Bedrock's application/vnd.amazon.eventstream, or SSE)",
                  "content": {
                "application/json": {"schema": {"type": "object", "description": "The provider's reply"}},
                "application/vnd.amazon.eventstream": {"schema": {"type": "string", "format": "binary"}},
                "text/event-stream": {"schema": {"type": "string", "description": "The provider's SSE frames"}},
            }}}


def _bedrock(request: Request) -> tuple[Upstream, BedrockUpstream]:
    upstream = _upstream(request)
    if upstream.bedrock is None:
        raise NoUpstream("this server's upstream is not Amazon Bedrock")
    return upstream, upstream.bedrock


@router.post("/upstream/bedrock/model/{model:segments}/{action}", response_model=None, openapi_extra=RAW_BODY, responses=STREAMED)
async def upstream_bedrock(request: Request, model: str, action: Literal["invoke", "invoke-with-response-stream", "count-tokens"]) -> Response:
    """A sandboxed session's Bedrock call (``model``: a model id, inference profile or ARN), re-signed
    with the server's AWS credentials (SigV4) and forwarded byte for byte; the event stream comes back as it is.

    Errors: 400 not a model id; 401 missing key; 404 the server's upstream is not Bedrock; 502 the upstream
    cannot be reached or the server has no AWS credentials; Bedrock's own statuses as they are.
    """
    upstream, bedrock = _bedrock(request)
    try:
        url = bedrock.url(model, action)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    body = await request.body()  # SigV4 signs the payload's hash: the whole body first
    headers = await _authenticated(lambda: bedrock.authenticate(url, _passed(request, ("content-type", "accept")), body))
    return _relay(await upstream.send(url, headers, body))


def _vertex(request: Request) -> tuple[Upstream, VertexUpstream]:
    upstream = _upstream(request)
    if upstream.vertex is None:
        raise NoUpstream("this server's upstream is not Vertex AI")
    return upstream, upstream.vertex


@router.post(
    "/upstream/vertex/projects/{project}/locations/{region}/publishers/anthropic/models/{call}",
    response_model=None, openapi_extra=RAW_BODY, responses=STREAMED,
)
async def upstream_vertex(request: Request, project: str, region: str, call: str) -> Response:
    """A sandboxed session's Vertex call (``call``: ``<model>:rawPredict`` or ``<model>:streamRawPredict``),
    forwarded byte for byte with the server's Google access token.

    Errors: 400 another project or region than the server's, or not a model call; 401 missing key; 404 the
    server's upstream is not Vertex; 502 the upstream cannot be reached or the server has no Google
    credentials; Vertex's own statuses as they are.
    """
    upstream, vertex = _vertex(request)
    model, _, action = call.rpartition(":")
    try:
        url = vertex.url(project, region, model, action)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    headers = await _authenticated(lambda: vertex.authenticate(_passed(request, ("content-type", "accept", "anthropic-version", "anthropic-beta"))))
    return _relay(await upstream.send(url, headers, request.stream()))
