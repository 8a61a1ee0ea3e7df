"""Responses-API input items → the gateway's conversation, and the items as stored.

``input`` is a string (one user message) or a list of items:

* messages ``{"type": "message"?, "role": "user"|"assistant"|"system"|"developer",
  "content": str | [{"type": "input_text"|"output_text", "text"}, {"type": "input_image",
  "image_url": "data:..."}]}``;
* the caller's own ``{"type": "function_call", "call_id", "name", "arguments"}`` and
  ``{"type": "function_call_output", "call_id", "output"}``.

They become chat-completions messages (``instructions`` and system/developer messages the
system prompt) (``function_call`` → an assistant message's
``tool_calls``, ``function_call_output`` → a ``tool`` message) and go through the same
normalisation as chat messages (:func:`..history.split`), so earlier turns are seeded into a
new session's transcript exactly as the chat gateway seeds them.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from ...sessions.prompt import MAX_PROMPT_CHARACTERS
from ..errors import GatewayError, bad_request
from ..history import Conversation, split

_PART_TYPES = {"input_text": "text", "output_text": "text", "text": "text", "refusal": "refusal"}


def item_id(prefix: str = "msg") -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def stored_items(value: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The input as items, each with an ``id`` (kept if given), as ``input_items`` lists them."""
    if isinstance(value, str):
        value = [{"role": "user", "content": [{"type": "input_text", "text": value}]}]
    items = []
    for item in value:
        kind = item.get("type") or "message"
        prefix = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}.get(kind, "item")
        stored = {**item, "type": kind, "id": item.get("id") or item_id(prefix)}
        if kind == "message" and isinstance(stored.get("content"), str):
            part = "output_text" if stored.get("role") == "assistant" else "input_text"
            stored["content"] = [{"type": part, "text": stored["content"]}]
        items.append(stored)
    return items


def _part(part: Any, where: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise bad_request(f"{where}: a content part must be an object", "input")
    kind = part.get("type")
    if kind in _PART_TYPES:
        return {"type": _PART_TYPES[kind], "text": part.get("text"), "refusal": part.get("refusal")}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str):
            raise bad_request(f"{where}: input_image needs image_url (a base64 data URL); file_id is not supported", "input")
        return {"type": "image_url", "image_url": {"url": url}}
    raise bad_request(f"{where}: content parts of type {str(kind)[:40]!r} are not supported", "input")


def chat_messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat-completions messages of ``items``, one for one (``function_call`` items after an
    assistant message join its ``tool_calls``)."""
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where, kind = f"input[{index}]", item.get("type") or "message"
        if kind == "message":
            content = item.get("content")
            if isinstance(content, list):
                content = [_part(part, f"{where}.content[{n}]") for n, part in enumerate(content)]
            messages.append({"role": item.get("role"), "content": content})
        elif kind == "function_call":
            call = {"id": str(item.get("call_id") or ""), "type": "function",
                    "function": {"name": str(item.get("name") or ""), "arguments": item.get("arguments") or "{}"}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append({"role": "tool", "tool_call_id": str(item.get("call_id") or ""), "content": output if isinstance(output, (str, list)) else str(output)})
        else:
            raise bad_request(f"{where}: input items of type {str(kind)[:40]!r} are not supported", "input")
    return messages


def conversation(items: list[dict[str, Any]], instructions: str | None) -> Conversation:
    """The normalised conversation (system prompt, history, new input) of a request's input.

    Raises:
        GatewayError: 400 naming ``input`` for items that cannot be represented, or when the
            input does not end with user input (or function call outputs).
    """
    try:
        conversation = split(chat_messages(items))
    except GatewayError as exc:
        if exc.param == "messages":
            exc.param = "input"
            exc.message = exc.message.replace("messages[", "input[").replace("the last message", "the last input item")
        raise
    system = "\n\n".join(filter(None, [instructions, conversation.system])) or None
    if system is not None and "\x00" in system:
        raise bad_request("instructions: the instructions and system messages must not contain a NUL character", "instructions")
    if system is not None and len(system) > MAX_PROMPT_CHARACTERS:
        raise bad_request(
            f"instructions: the instructions and system messages hold {len(system)} characters; a session's system prompt "
            f"takes at most {MAX_PROMPT_CHARACTERS}", "instructions",
        )
    return replace(conversation, system=system)


__all__ = ["chat_messages", "conversation", "item_id", "stored_items"]
