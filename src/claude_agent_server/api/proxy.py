"""The Anthropic Messages API face of the LiteLLM proxy: ``POST /v1/messages`` and ``/v1/messages/count_tokens``.

Claude Code calls ``/v1/messages?beta=true`` (the query is accepted and
ignored). Every error on these routes, the 401 included, has Anthropic's shape
``{"type": "error", "error": {"type", "message"}}``. Each request that passes the
key check is timed and counted in the app's metrics, if it has them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from ..observability import ProxyTimer
from ..proxy import AuthenticationFailed, InvalidRequest, ProxyError, ProxyService, load_config
from ..settings import Settings
from ..web.auth import require_model_key
from ..web.deps import ProxyDep
from ..web.responses import SSE, error_responses
from ..web.state import server_state

T = TypeVar("T")


async def require_proxy_key(request: Request) -> None:
    """The model-key check (the server's key or a live session's), failing with an Anthropic-shaped 401."""
    try:
        await require_model_key(request)
    except HTTPException as exc:
        raise AuthenticationFailed(str(exc.detail)) from None


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicError(BaseModel):
    """Anthropic's error body: ``{type: "error", error: {type, message}}``."""

    type: Literal["error"] = "error"
    error: AnthropicErrorDetail


MESSAGES_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "description": "An Anthropic Messages API request (passed to LiteLLM as it is)",
            "required": ["model", "messages"],
            "properties": {"model": {"type": "string"}, "messages": {"type": "array", "items": {"type": "object"}}},
        }}},
    }
}
ERRORS = error_responses(AnthropicError, 400, 401, 403, 404, 413, 415, 429, 502, 504)

router = APIRouter(tags=["proxy"], dependencies=[Depends(require_proxy_key)], responses=ERRORS)


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        raise InvalidRequest("the request body must be JSON") from None


async def _timed(request: Request, serve: Callable[[Any], Awaitable[T]]) -> tuple[T, ProxyTimer]:
    """Serve the request's JSON body, timed; a failure is recorded with its status and raised on."""
    timer = ProxyTimer(server_state(request.app).metrics)
    with timer.failures():
        body = await _json(request)
        timer.requested(body)
        return await serve(body), timer


@router.post("/v1/messages", response_model=None, openapi_extra=MESSAGES_BODY, responses=SSE)
async def create_message(request: Request, proxy: ProxyDep) -> Response:
    """Anthropic Messages API through LiteLLM: a message as JSON, or with ``stream: true`` its SSE events.

    Errors: 400 bad body, 401 missing key, 404 unknown model; upstream 4xx kept,
    5xx → 502; a failure after streaming began is an ``event: error`` frame.
    """
    result, timer = await _timed(request, lambda body: proxy.messages(body, request.headers))
    if isinstance(result, dict):
        timer.done(200)
        return JSONResponse(result)
    return StreamingResponse(
        timer.stream(result), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.post("/v1/messages/count_tokens", openapi_extra=MESSAGES_BODY)
async def count_tokens(request: Request, proxy: ProxyDep) -> dict[str, int]:
    """Anthropic ``count_tokens``: ``{"input_tokens": n}`` (the provider's count, or LiteLLM's tokenizer)."""
    counted, timer = await _timed(request, proxy.count_tokens)
    timer.done(200)
    return counted


@router.post("/api/event_logging/batch", include_in_schema=False)
async def telemetry_batch() -> dict[str, Any]:
    """Claude Code's telemetry upload, if it arrives: accepted and dropped."""
    return {}


async def _proxy_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProxyError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers or None)


def install(app: FastAPI) -> None:
    """Add the proxy routes and their Anthropic-shaped error handler to ``app``."""
    app.add_exception_handler(ProxyError, _proxy_error)
    app.include_router(router)


def make_service(settings: Settings) -> ProxyService:
    """The proxy of the server's state; reads the LiteLLM config now (LiteLLM itself loads on first use).

    Raises:
        ProxyConfigError: the config file cannot be read or is invalid.
    """
    return ProxyService(
        load_config(settings.litellm_config) if settings.litellm_config else None,
        default_max_tokens=settings.proxy_max_tokens,
        timeout=settings.proxy_timeout,
        allow_unlisted=settings.proxy_allow_unlisted_models,
    )


async def close_service(service: ProxyService | None) -> None:
    """Release the proxy's upstream connections."""
    if service is not None:
        await service.aclose()
