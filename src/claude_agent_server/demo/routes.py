"""HTTP face of the demo model: ``POST /demo/v1/messages`` and ``/count_tokens``.

Speaks the Anthropic Messages API (streaming SSE and plain JSON) well enough for
Claude Code; the server points demo sessions' ``ANTHROPIC_BASE_URL`` here.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..web.sse import EventSource
from .model import SLOW_DELAY, Reply, count_tokens, reply_to

router = APIRouter(prefix="/demo/v1", tags=["demo model"], include_in_schema=False)


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    return {"input_tokens": count_tokens(body), "output_tokens": max(1, len(json.dumps(reply.content)) // 4)}


def _message(body: dict[str, Any], reply: Reply, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"msg_demo_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "demo"),
        "content": content,
        "stop_reason": None if not content else reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage(body, reply),
    }


def _frame(data: dict[str, Any]) -> dict[str, str]:
    return {"event": data["type"], "data": json.dumps(data)}


async def _stream(body: dict[str, Any], reply: Reply) -> AsyncIterator[dict[str, str]]:
    start = _message(body, reply, [])
    start["usage"]["output_tokens"] = 0
    yield _frame({"type": "message_start", "message": start})
    for index, block in enumerate(reply.content):
        if block["type"] == "text":
            yield _frame({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            pieces = block["text"].split(" ") if reply.slow else [block["text"]]
            for n, piece in enumerate(pieces):
                if reply.slow:
                    await asyncio.sleep(SLOW_DELAY)
                text = piece if n == len(pieces) - 1 or not reply.slow else piece + " "
                yield _frame({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}})
        else:
            opening = {**block, "input": {}}
            yield _frame({"type": "content_block_start", "index": index, "content_block": opening})
            partial = json.dumps(block["input"])
            yield _frame({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": partial}})
        yield _frame({"type": "content_block_stop", "index": index})
    yield _frame(
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": _usage(body, reply)["output_tokens"]},
        }
    )
    yield _frame({"type": "message_stop"})


@router.post("/messages")
async def create_message(request: Request) -> Any:
    """Anthropic Messages API: the scripted reply, streamed when ``stream`` is true."""
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        error = {"type": "invalid_request_error", "message": "body must be a JSON object with messages"}
        return JSONResponse({"type": "error", "error": error}, status_code=400)
    reply = reply_to(body)
    if reply.error is not None:
        status, kind, message = reply.error
        return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status_code=status)
    if body.get("stream"):
        return EventSource(_stream(body, reply), ping=15)
    return JSONResponse(_message(body, reply, reply.content))


@router.post("/messages/count_tokens")
async def count_message_tokens(request: Request) -> dict[str, int]:
    """Anthropic ``count_tokens``: a rough deterministic count."""
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        body = {}
    return {"input_tokens": count_tokens(body if isinstance(body, dict) else {})}
