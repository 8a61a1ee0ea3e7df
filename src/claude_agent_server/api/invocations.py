"""``POST /invocations``: the single entry point (AWS Bedrock AgentCore / SageMaker contract).

Two request shapes:

1. The envelope ``{path, method, path_params, query_params, payload}``: forwarded inside this
   app to the REST route it names, so the handler, the auth check, the status
   code and the body are exactly those of the REST call (streaming included).
2. AgentCore ``{"prompt": "..."}`` with the header
   ``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` (33+ characters): one turn in
   the session mapped to that header, created (or resumed from its transcript)
   on first use, woken when hibernated. The mapping is a UUIDv5 of the header,
   so it survives restarts; the registry keeps the header with the session.
   ``Accept: text/event-stream`` streams the turn. Without the header, the turn
   runs in a new session that is hibernated as soon as the turn ends (its id
   comes back in the header), so such calls never pile up live processes.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from claude_agent_protocol import InvocationCreated, InvocationEnvelope, InvocationReply, TurnReply
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ..sessions.prompt import check_prompt
from ..web.deps import ManagerDep, SettingsDep
from ..web.responses import SSE, server_errors
from ..web.validation import lone_surrogate
from .messages import run_turn, wants_stream

router = APIRouter(tags=["invocations"])

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
MIN_SESSION_HEADER_LENGTH = 33
_NAMESPACE = uuid.UUID("6f1c3c8e-6a53-4f0e-9f3e-0c5b8f2d7a11")
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def agentcore_session_id(header: str) -> str:
    """The Claude Code session id an AgentCore runtime session id maps to (stable UUIDv5)."""
    return str(uuid.uuid5(_NAMESPACE, header))


class Forwarded(Response):
    """Runs the app itself on a rewritten request and streams its response back as is."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        super().__init__()
        self.child_scope = scope
        self.child_body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = False

        async def child_receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": self.child_body, "more_body": False}
            return await receive()

        await scope["app"](self.child_scope, child_receive, send)


def _bad(detail: str, code: int = status.HTTP_400_BAD_REQUEST) -> HTTPException:
    return HTTPException(code, detail=detail)


def _envelope_target(body: dict[str, Any]) -> tuple[str, str, str]:
    """``(method, path, query)`` of an envelope, placeholders filled and quoted."""
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise _bad("'path' is required: a REST path such as /sessions or /sessions/{session_id}/messages")
    method = str(body.get("method") or "POST").upper()
    if method not in _METHODS:
        raise _bad(f"'method' must be one of {', '.join(sorted(_METHODS))}")
    params = body.get("path_params") or {}
    if not isinstance(params, dict):
        raise _bad("'path_params' must be an object", status.HTTP_422_UNPROCESSABLE_CONTENT)
    path, _, query = path.partition("?")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise _bad(f"path parameter {name!r} is missing from 'path_params'")
        return quote(str(params[name]), safe="")

    path = _PLACEHOLDER.sub(fill, path)
    if not path.startswith("/") or path.rstrip("/") == "/invocations" or ".." in path.split("/"):
        raise _bad(f"'path' {path!r} cannot be invoked")
    return method, path, query


def _forward(request: Request, body: dict[str, Any]) -> Forwarded:
    method, path, query = _envelope_target(body)
    payload = body.get("payload")
    extra_query = body.get("query_params") or {}
    if not isinstance(extra_query, dict):
        raise _bad("'query_params' must be an object", status.HTTP_422_UNPROCESSABLE_CONTENT)
    if extra_query:
        extra = urlencode({k: v for k, v in extra_query.items() if v is not None}, doseq=True)
        query = f"{query}&{extra}" if query else extra
    if method in ("GET", "DELETE"):
        if isinstance(payload, dict) and payload:
            extra = urlencode({k: v for k, v in payload.items() if v is not None})
            query = f"{query}&{extra}" if query else extra
        content = b""
    else:
        content = json.dumps({} if payload is None else payload).encode()
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"content-length", b"content-type")]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    scope = {
        **request.scope,
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
    }
    scope.pop("route", None)
    scope.pop("endpoint", None)
    scope.pop("path_params", None)
    return Forwarded(scope, content)


async def _agentcore(request: Request, body: dict[str, Any], manager: ManagerDep, settings: SettingsDep) -> Any:
    prompt = body.get("prompt", body.get("message"))
    if not isinstance(prompt, str) or not prompt.strip():
        raise _bad("'prompt' (or 'message') must be a non-empty string", status.HTTP_422_UNPROCESSABLE_CONTENT)
    header = request.headers.get(SESSION_HEADER)
    if header is not None and len(header) < MIN_SESSION_HEADER_LENGTH:
        raise _bad(f"{SESSION_HEADER} must be at least {MIN_SESSION_HEADER_LENGTH} characters")
    check_prompt(prompt)  # 413 before a session is made for it
    one_off = header is None
    header = header or str(uuid.uuid4())
    session = await manager.open_agentcore(agentcore_session_id(header), header)
    result = await run_turn(session, prompt, wants_stream(request, False), settings)
    if one_off:
        manager.hibernate_after_turn(session)
    if isinstance(result, Response):
        result.headers[SESSION_HEADER] = header
        return result
    reply = TurnReply.model_validate(result).model_dump(mode="json", exclude_unset=True)  # as REST's response_model gives it
    return JSONResponse(reply, headers={SESSION_HEADER: header})


AGENTCORE_PROMPT: dict[str, Any] = {
    "title": "AgentCorePrompt",
    "description": "An AgentCore turn: 'prompt' (or 'message', the starter toolkit's example), not blank.",
    "type": "object",
    "anyOf": [
        {"required": ["prompt"], "properties": {"prompt": {"type": "string", "pattern": r"\S"}}},
        {"required": ["message"], "not": {"required": ["prompt"]}, "properties": {"message": {"type": "string", "pattern": r"\S"}}},
    ],
    "not": {"required": ["path"]},
}
"""The AgentCore request's schema (a body with ``path`` is an envelope)."""

REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"anyOf": [InvocationEnvelope.model_json_schema(), AGENTCORE_PROMPT]}}},
    }
}
FORWARDED = (200, 201, 404, 405, 409, 413, 422, 502, 503)
"""Statuses an envelope may get from the route it names (besides the gate's)."""


OTHER_MEDIA = {"*/*": {"schema": {"description": "An envelope naming a route that answers another media type gets it as is"}}}


@router.post(
    "/invocations",
    openapi_extra=REQUEST_BODY,
    response_model=InvocationReply,
    responses={
        200: {
            "description": "An AgentCore prompt's turn (a TurnReply, or its events as SSE), or an envelope's reply: the named route's",
            "content": {**SSE[200]["content"], **OTHER_MEDIA},
        },
        201: {"description": "An envelope's POST /sessions (the created session) or another route's 201", "model": InvocationCreated},
        **server_errors(*FORWARDED[2:], body=True),
    },
)
async def invocations(request: Request, manager: ManagerDep, settings: SettingsDep) -> Any:
    """Single entry point: a REST envelope ``{path, method, path_params, query_params,
    payload}``, or an AgentCore ``{"prompt"}`` (or ``{"message"}``, the starter toolkit's
    example) turn keyed by the runtime session header. Invalid JSON and a missing path
    are 400, an unknown path 404, a bad payload 422, as for REST.
    """
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        raise _bad("the body must be JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object", status.HTTP_422_UNPROCESSABLE_CONTENT)
    if lone_surrogate(body):
        raise _bad("strings must be valid Unicode text (an unpaired surrogate such as \\ud800 is not)")
    if ("prompt" in body or "message" in body) and "path" not in body:
        return await _agentcore(request, body, manager, settings)
    return _forward(request, body)
