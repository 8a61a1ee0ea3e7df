"""A conversation sent by a stateless caller: normalised messages and their hash chain.

OpenAI-shaped messages (``{"role", "content", "tool_calls", "tool_call_id"}``) are
normalised into Anthropic content blocks, the form the session's transcript and
the model hold::

    {"role": "user" | "assistant", "content": [block, ...]}

    {"type": "text", "text": str}                       (empty text dropped)
    {"type": "image", "source": {"type": "base64", "media_type": str, "data": str}}
    {"type": "tool_use", "id": str, "name": str, "input": dict}
    {"type": "tool_result", "tool_use_id": str, "content": str}

A string and ``[{"type": "text", "text": ...}]`` normalise alike; ``cache_control``
and any other extra field are dropped; a ``tool`` message becomes a user message
holding one ``tool_result``, and consecutive ``tool`` messages become one user
message (the results of one assistant message's calls, as the Anthropic API takes
them). An assistant message with no content but a ``refusal`` holds that text.
``name`` and any other extra field are ignored.
``system`` and ``developer`` messages are not part of the history: they form the
system prompt.

The *history* is every message up to and including the last assistant message;
the *input* is what follows (user messages or tool results). Each history message
has a hash chained from a scope (a hash of the API key, model, system prompt and
profile) and the previous message's hash, so a history's key is the hash of its
last message and a conversation never matches another scope's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import bad_request

Message = dict[str, Any]
"""A normalised message: ``{"role": "user" | "assistant", "content": [block, ...]}``."""

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
"""Media types the Anthropic API takes for base64 images."""
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)(?:;[\w.+-]+=[^;,]*)*;base64,(?P<data>.*)$", re.S)
_TOOL_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class Conversation:
    """One call's conversation, split and normalised.

    Attributes:
        system: The system and developer messages' text, joined by blank lines (None: none).
        history: Normalised messages up to and including the last assistant message.
        input: Normalised messages after it (at least one): the new turn.
    """

    system: str | None
    history: tuple[Message, ...]
    input: tuple[Message, ...]

    def input_blocks(self) -> list[dict[str, Any]]:
        """The new turn's content blocks, in order (one user message to send)."""
        return [block for message in self.input for block in message["content"]]

    def input_text(self) -> str:
        """The new turn's text (a placeholder for images and tool results alone)."""
        blocks = self.input_blocks()
        text = "\n\n".join(b["text"] for b in blocks if b["type"] == "text")
        if text:
            return text
        return "[tool results]" if any(b["type"] == "tool_result" for b in blocks) else "[image]"


def _text_of(content: Any, where: str) -> str:
    """The text of a system/tool message's content (a string or text parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if part.get("type") not in ("text", "input_text"):
            raise bad_request(f"{where}: only text parts are allowed here, not {str(part.get('type'))[:40]!r}", "messages")
        parts.append(str(part.get("text") or ""))
    return "\n".join(parts)


def image_block(url: str, where: str) -> dict[str, Any]:
    """An Anthropic base64 image block from a ``data:`` URL.

    Raises:
        GatewayError: 400 for any other URL (the server fetches nothing a request names),
            a media type the model does not take, or data that is not base64.
    """
    match = _DATA_URL.match(url)
    if match is None:
        raise bad_request(f"{where}: images must be base64 data URLs (data:image/png;base64,...); this server fetches no URLs", "messages")
    media_type = match.group("type").lower()
    if media_type not in IMAGE_TYPES:
        raise bad_request(f"{where}: image type {media_type!r} is not one of {', '.join(IMAGE_TYPES)}", "messages")
    data = re.sub(r"\s+", "", match.group("data"))
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{where}: the image data is not valid base64", "messages") from None
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _tool_id(value: Any) -> str:
    """A tool call id in the characters the Anthropic API allows (others become ``_``)."""
    return _TOOL_ID.sub("_", str(value or "")) or "call"


def _content_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type")
        if kind in ("text", "input_text", "refusal"):
            text = part.get("text") if kind != "refusal" else part.get("refusal")
            if text:
                blocks.append({"type": "text", "text": str(text)})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            blocks.append(image_block(str(url or ""), f"{where}.content[{index}]"))
        else:
            raise bad_request(f"{where}.content[{index}]: content parts of type {str(kind)[:40]!r} are not supported", "messages")
    return blocks


def normalise(message: dict[str, Any], where: str = "message") -> Message:
    """One OpenAI-shaped user, assistant or tool message in normalised form.

    Raises:
        GatewayError: 400 for what cannot be represented (see :func:`image_block`;
            tool call arguments that are not a JSON object; unknown part types).
    """
    role = message.get("role")
    if role == "tool":
        result = {"type": "tool_result", "tool_use_id": _tool_id(message.get("tool_call_id")), "content": _text_of(message.get("content"), where)}
        return {"role": "user", "content": [result]}
    if role not in ("user", "assistant"):
        raise bad_request(f"{where}: role {str(role)[:40]!r} is not part of a conversation's history", "messages")
    blocks = _content_blocks(message.get("content"), where)
    if role == "assistant":
        if not blocks and isinstance(refusal := message.get("refusal"), str) and refusal:
            blocks.append({"type": "text", "text": refusal})  # what another model said instead of answering
        for index, call in enumerate(message.get("tool_calls") or []):
            function = call.get("function") or {}
            arguments = function.get("arguments") or "{}"
            try:
                parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise bad_request(f"{where}.tool_calls[{index}]: arguments must be a JSON object", "messages")
            blocks.append({"type": "tool_use", "id": _tool_id(call.get("id")), "name": str(function.get("name") or ""), "input": parsed})
    return {"role": role, "content": blocks}


def _all_results(message: Message) -> bool:
    return bool(message["content"]) and all(block["type"] == "tool_result" for block in message["content"])


def split(messages: Sequence[dict[str, Any]]) -> Conversation:
    """Split a call's messages into system prompt, history and new input.

    Raises:
        GatewayError: 400 when nothing follows the last assistant message, or a
            message cannot be normalised.
    """
    system_parts: list[str] = []
    conversation: list[Message] = []
    last_assistant = -1
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.get("role") in ("system", "developer"):
            if text := _text_of(message.get("content"), where):
                system_parts.append(text)
            continue
        normalised = normalise(message, where)
        if message.get("role") == "tool" and conversation and _all_results(conversation[-1]):
            conversation[-1] = {"role": "user", "content": [*conversation[-1]["content"], *normalised["content"]]}
        else:
            conversation.append(normalised)
        if message.get("role") == "assistant":
            last_assistant = len(conversation) - 1
    history, new_input = conversation[: last_assistant + 1], conversation[last_assistant + 1 :]
    if not new_input or not any(m["content"] for m in new_input):
        raise bad_request("the last message must be a user message (or tool results) with some content", "messages")
    return Conversation("\n\n".join(system_parts) or None, tuple(history), tuple(new_input))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def canonical(message: Message) -> str:
    """A message's canonical JSON text (sorted keys, no spaces)."""
    return json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def key_digest(api_key: str | None) -> str:
    """A one-way digest of the caller's API key (the key itself is never kept)."""
    return _digest("api-key", api_key or "")


def scope(api_key_digest: str, model: str, system: str | None, profile: str) -> str:
    """The hash a conversation's chain starts from: key digest, model, system prompt and profile."""
    return _digest("scope", api_key_digest, model, profile, "" if system is None else "s:" + system)


def chain(start: str, messages: Iterable[Message]) -> list[str]:
    """Each message's hash, chained from ``start`` (``h_i = sha256(h_{i-1}, canonical(m_i))``)."""
    hashes = []
    current = start
    for message in messages:
        current = _digest(current, canonical(message))
        hashes.append(current)
    return hashes


def history_key(start: str, messages: Sequence[Message]) -> str | None:
    """The key of a history (its last message's hash); None for an empty history."""
    hashes = chain(start, messages)
    return hashes[-1] if hashes else None


def reply_message(text: str) -> Message:
    """The normalised form of an assistant reply returned as ``text`` (as the caller will send it back)."""
    return normalise({"role": "assistant", "content": text})
