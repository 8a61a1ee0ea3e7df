"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (the proxy's upstream in tests).

It answers ``POST /v1/chat/completions`` (streaming and not) from directives in
the *current turn* — the user messages after the last assistant message:

* ``TOOL <name> <json>`` → a call of tool ``<name>`` with input ``<json>`` (only
  when the request offers that tool; otherwise it answers with text);
* ``FAIL <status>`` → an OpenAI-shaped error with that HTTP status;
* ``BREAK`` → when streaming: a first text chunk, then the connection drops;
* a ``tool`` message in the current turn → ``tool said: <its content>``;
* anything else → ``scripted reply from <model>``.

Every request is recorded (path, headers, JSON body) in :attr:`ScriptedUpstream.requests`.
``POST /v1/messages`` answers a fixed Anthropic message (for ``anthropic/`` models).
It runs uvicorn in a background thread so tests can read the record directly.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REPLY_TEXT = "scripted reply from {model}"
ANTHROPIC_TEXT = "native anthropic reply"
BREAK_TEXT = "partial answer before the connection drops"
_TOOL = re.compile(r"\bTOOL (\w+) (\{.*\})", re.S)
_FAIL = re.compile(r"\bFAIL (\d{3})\b")
_BREAK = re.compile(r"\bBREAK\b")


@dataclass
class Recorded:
    """One request the upstream received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _current_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages after the last assistant message."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "assistant":
            return messages[index + 1 :]
    return messages


@dataclass
class Plan:
    """What to answer: text, or a tool call, or an error status; ``drop`` breaks the stream."""

    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None
    status: int = 200
    drop: bool = False


def plan_for(body: dict[str, Any]) -> Plan:
    """Read the directives of the current turn of a chat-completions request."""
    turn = _current_turn(body.get("messages") or [])
    tool_messages = [m for m in turn if m.get("role") == "tool"]
    if tool_messages:
        return Plan(text=f"tool said: {_text(tool_messages[-1].get('content')).strip()}")
    said = "\n".join(_text(m.get("content")) for m in turn if m.get("role") == "user")
    if failure := _FAIL.search(said):
        return Plan(status=int(failure.group(1)))
    if _BREAK.search(said):
        return Plan(text=BREAK_TEXT, drop=True)
    offered = {t.get("function", {}).get("name") for t in body.get("tools") or []}
    if (call := _TOOL.search(said)) and call.group(1) in offered:
        return Plan(tool=(call.group(1), json.loads(call.group(2))))
    return Plan(text=REPLY_TEXT.format(model=body.get("model")))


def _usage(body: dict[str, Any]) -> dict[str, int]:
    prompt = max(1, len(json.dumps(body.get("messages"))) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": 7, "total_tokens": prompt + 7}


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    data: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        data["usage"] = usage
    return f"data: {json.dumps(data)}\n\n".encode()


class _Dropped(Exception):
    """Raised inside the streaming body so uvicorn drops the connection mid-response."""


async def _stream(body: dict[str, Any], plan: Plan) -> AsyncIterator[bytes]:
    model = body.get("model", "scripted")
    yield _chunk(model, {"role": "assistant", "content": ""})
    if plan.tool:
        name, arguments = plan.tool
        call = {"index": 0, "id": "call_scripted_1", "type": "function", "function": {"name": name, "arguments": ""}}
        yield _chunk(model, {"tool_calls": [call]})
        encoded = json.dumps(arguments)
        for piece in (encoded[: len(encoded) // 2], encoded[len(encoded) // 2 :]):
            yield _chunk(model, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield _chunk(model, {}, "tool_calls", _usage(body))
    else:
        words = plan.text.split(" ")
        for n, word in enumerate(words):
            yield _chunk(model, {"content": word if n == len(words) - 1 else word + " "})
            if plan.drop:
                await asyncio.sleep(0.05)
                raise _Dropped
        yield _chunk(model, {}, "stop", _usage(body))
    yield b"data: [DONE]\n\n"


def _completion(body: dict[str, Any], plan: Plan) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": plan.text or None}
    finish = "stop"
    if plan.tool:
        name, arguments = plan.tool
        message["tool_calls"] = [
            {"id": "call_scripted_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(body),
    }


def _anthropic_message(body: dict[str, Any]) -> dict[str, Any]:
    """A fixed Anthropic Messages reply, for ``anthropic/`` models pointed at this server."""
    return {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "scripted"),
        "content": [{"type": "text", "text": ANTHROPIC_TEXT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 3},
    }


class ScriptedUpstream:
    """The server; use :func:`scripted_upstream` to run it. ``api_base`` is its ``.../v1`` URL."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.port = _free_port()
        self.api_base = f"http://127.0.0.1:{self.port}/v1"
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    async def _handle(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.requests.append(Recorded(request.url.path, {k.lower(): v for k, v in request.headers.items()}, body))
        if request.url.path == "/v1/messages":
            return JSONResponse(_anthropic_message(body))
        if request.url.path != "/v1/chat/completions":
            return JSONResponse({"error": {"message": f"no route {request.url.path}", "type": "not_found"}}, 404)
        plan = plan_for(body)
        if plan.status != 200:
            error = {"message": f"scripted failure {plan.status}", "type": "scripted_error", "code": str(plan.status)}
            return JSONResponse({"error": error}, plan.status)
        if body.get("stream"):
            return StreamingResponse(_stream(body, plan), media_type="text/event-stream")
        return JSONResponse(_completion(body, plan))

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scripted_upstream() -> Iterator[ScriptedUpstream]:
    """Run a :class:`ScriptedUpstream` in a thread for the duration of the block."""
    upstream = ScriptedUpstream()
    config = uvicorn.Config(upstream.app, host="127.0.0.1", port=upstream.port, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="scripted-upstream", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the scripted upstream did not start")
        time.sleep(0.02)
    try:
        yield upstream
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def create_app() -> Starlette:
    """A fresh upstream app, for running it in its own process: ``uvicorn --factory upstream:create_app``."""
    return ScriptedUpstream().app
