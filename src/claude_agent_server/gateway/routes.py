"""The OpenAI-compatible routes: ``GET /v1/models``, ``GET /v1/models/{id}``, ``POST /v1/chat/completions``.

Auth: the server's API key as ``Authorization: Bearer <key>`` (or ``x-api-key``),
compared in constant time; 401 in OpenAI's shape. Every chat-completions answer
that got as far as a session carries ``X-Session-Id``; a request that sends it
continues that session (see :mod:`.pool`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic_core import from_json
from sse_starlette import ServerSentEvent

from ..web.auth import authenticated, caller_of, is_server_key, presented_key
from ..web.deps import StateDep
from ..web.responses import SSE, error_responses, request_body
from ..web.state import ServerState, server_state
from ..web.validation import lone_surrogate
from ..web.sse import EventSource, Frame
from .errors import SESSION_HEADER, GatewayError, bad_request, unauthorized
from .history import history_key, key_digest, scope
from .mapping import Envelope, Failure, Piece, chunks, completion, role_chunk
from .models import Catalog, ModelChoice, card
from .pool import Call
from .structured import parse_format
from .protocol import MAX_MESSAGES, ChatCompletion, ChatCompletionRequest, ErrorResponse, ModelCard, ModelList


async def require_key(request: Request) -> str:
    """Dependency: 401 (OpenAI shape) unless the request signed in; returns the digest its
    history matching is scoped by: the user's (any of their keys or tokens), else the key's."""
    key = presented_key(request)
    who = caller_of(request)
    if who is not None and who.key_id != "server":
        return key_digest(f"user:{who.user}")
    if not (authenticated(request) or is_server_key(request, key)):
        raise unauthorized()
    return key_digest(key if server_state(request.app).settings.api_key_value() is not None else None)


T = TypeVar("T")
INLINE_BODY_BYTES = 32 * 1024
"""Bodies up to this many bytes are parsed and hashed on the event loop (well under a
millisecond); larger ones in a worker thread."""
ERRORS = error_responses(ErrorResponse, 400, 401, 403, 404, 409, 413, 415, 429, 502, 503)
"""What any gateway route may answer besides its success, in OpenAI's error shape."""
router = APIRouter(prefix="/v1", tags=["openai gateway"], responses=ERRORS)
KeyDep = Annotated[str, Depends(require_key)]


def catalog(state: ServerState) -> Catalog:
    """The models the gateway offers: the agent profiles, and the LiteLLM config's names (if any)."""
    settings, config = state.settings, state.proxy.config
    names = config.model_names if settings.litellm_config and config else []
    return Catalog(settings, names)


@router.get("/models", response_model=ModelList)
async def list_models(state: StateDep, _: KeyDep) -> dict[str, Any]:
    """``{object: "list", data: [{id, object: "model", created, owned_by}]}``."""
    return ModelList(data=[ModelCard.model_validate(c) for c in catalog(state).cards()]).model_dump()


@router.get("/models/{model_id:path}", response_model=ModelCard)
async def get_model(model_id: str, state: StateDep, _: KeyDep) -> dict[str, Any]:
    """One model card (any name a completion would take, suffixed or not); 404 ``model_not_found`` otherwise."""
    catalog(state).resolve(model_id)
    return ModelCard.model_validate(card(model_id)).model_dump()


def parse_body(raw: bytes, validate: Callable[[dict[str, Any]], T]) -> T:
    """The validated request (CPU-bound for a large body: may run in a worker thread).

    Raises:
        GatewayError: 400.
    """
    try:
        body = from_json(raw)  # pydantic's parser: about 3.5 times as fast as json.loads on a large body
    except ValueError:  # not JSON, an unpaired surrogate escape, or nested too deeply for it: json says which
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise bad_request("the body must be JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    for name in ("messages", "input"):
        if isinstance(value := body.get(name), list) and len(value) > MAX_MESSAGES:  # before walking them all
            raise bad_request(f"{name}: at most {MAX_MESSAGES} {'messages' if name == 'messages' else 'items'}, not {len(value)}", name)
    if lone_surrogate(body):
        raise bad_request("strings must be valid Unicode text (an unpaired surrogate such as \\ud800 is not)")
    return validate(body)


def _parse(raw: bytes) -> ChatCompletionRequest:
    return parse_body(raw, ChatCompletionRequest.from_body)


def _call(body: ChatCompletionRequest, choice: ModelChoice, digest: str) -> Call:
    """The call: normalised conversation and its history's key (CPU-bound: runs in a worker thread).

    Raises:
        GatewayError: 400 for messages that cannot be represented.
    """
    conversation = body.to_domain()
    structured = parse_format(body.response_format, "response_format", nested=True)
    start = scope(digest, choice.name, conversation.system, choice.profile + (f"|{structured.scope}" if structured else ""))
    return Call(conversation, choice, start, history_key(start, conversation.history), structured)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses=SSE,
    openapi_extra=request_body(ChatCompletionRequest),
)
async def chat_completions(request: Request, state: StateDep, digest: KeyDep) -> Any:
    """A chat completion from an agent session: ``chat.completion``, or with ``stream: true``
    ``chat.completion.chunk`` SSE frames ending in ``data: [DONE]``.

    Parsing, validating, normalising and hashing a body larger than ``INLINE_BODY_BYTES``
    (up to ``max_model_body_bytes``) run in worker threads, so the event loop keeps serving
    other requests meanwhile; a smaller one costs less than the two thread hops.

    Errors: 400 bad request, 401, 404 unknown model or ``X-Session-Id``, 409 that session
    is busy, 413 a prompt longer than Claude Code takes (``context_length_exceeded``),
    429 (``Retry-After``) no session can be made live, 502 the agent failed.
    """
    raw = await request.body()
    small = len(raw) <= INLINE_BODY_BYTES
    body = _parse(raw) if small else await asyncio.to_thread(_parse, raw)
    choice = catalog(state).resolve(body.model)
    call = _call(body, choice, digest) if small else await asyncio.to_thread(_call, body, choice, digest)
    turn = await state.gateway.start(call, request.headers.get(SESSION_HEADER))
    headers = {SESSION_HEADER: turn.session.id}
    envelope = Envelope(body.model)
    if body.stream:
        return EventSource(
            _frames(envelope, turn.pieces(), body.include_usage),
            ping=15,
            headers={**headers, "X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
        )
    pieces = [piece async for piece in turn.pieces()]
    try:
        reply = completion(envelope, pieces)
    except GatewayError as exc:
        exc.session_id = turn.session.id
        raise
    return JSONResponse(reply.model_dump(), headers=headers)


async def _frames(envelope: Envelope, pieces: AsyncIterator[Piece], include_usage: bool) -> AsyncIterator[ServerSentEvent]:
    """Role chunk, text chunks, finish chunk, usage chunk (when asked), ``[DONE]``; an error frame instead of the end."""
    yield Frame(data=json.dumps(role_chunk(envelope)))
    async for piece in pieces:
        for frame in chunks(envelope, piece, include_usage):
            yield Frame(data=json.dumps(frame, ensure_ascii=False))
        if isinstance(piece, Failure):
            break
    yield Frame(data="[DONE]")
