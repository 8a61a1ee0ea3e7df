"""Session events → Chat Completions pieces, one mapper for streaming and non-streaming.

:class:`TurnMapper` turns a turn's events (see :mod:`claude_agent_server.sessions.events`)
into :data:`Piece` values: text as it streams, then the end (finish reason and
usage) or an error. :func:`chunk` encodes pieces as ``chat.completion.chunk``
frames and :func:`completion` folds them into one ``chat.completion``, so both
paths say exactly the same thing.

Only the top-level assistant text reaches the caller. Tool calls the agent ran
itself are never returned as ``tool_calls`` (the caller did not ask for them and
must not run them again): their effects show in the text that follows. Texts of
successive assistant messages are separated by a blank line.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..sessions import Event
from .errors import GatewayError
from .structured import Structured
from .protocol import AssistantMessage, ChatCompletion, ChatCompletionChunk, Choice, ChunkChoice, Delta, PromptTokensDetails, Usage

FINISH_REASONS: dict[str | None, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
"""Anthropic ``stop_reason`` → OpenAI ``finish_reason`` (anything else: ``stop``)."""
SEPARATOR = "\n\n"
CONTEXT_REASONS = frozenset({"blocking_limit", "prompt_too_long"})
"""``terminal_reason`` values of a turn refused because the conversation is longer than the
model takes (Claude Code's own estimate, or the model's answer): OpenAI's
``context_length_exceeded``, a 400 its clients recognise (to shorten the history)."""


def result_failure(result: dict[str, Any]) -> GatewayError:
    """The error of a failed turn's ``result`` event (``is_error`` true).

    The code is never ``success``: a failed result may carry ``subtype: "success"``
    (an API error, "Prompt is too long"); the code comes from a failure subtype
    (``error_max_turns``, ``error_during_execution``, ...), else ``terminal_reason``
    (``api_error``, ``model_error``, ...), else ``agent_error``.
    """
    message = str(result.get("result") or "; ".join(map(str, result.get("errors") or [])) or "the agent's turn failed")
    reason, subtype = result.get("terminal_reason"), result.get("subtype")
    if reason in CONTEXT_REASONS:
        return GatewayError(400, message, code="context_length_exceeded", param="messages")
    if subtype and subtype != "success":
        code = str(subtype)
    elif reason and reason != "completed":
        code = str(reason)
    else:
        code = "agent_error"
    return GatewayError(502, message, type="server_error", code=code)


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class End:
    finish_reason: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class Failure:
    error: GatewayError


Piece = Text | End | Failure


def map_usage(result: dict[str, Any]) -> Usage:
    """OpenAI usage from a ``result`` event: prompt tokens include cache reads and writes."""
    usage = result.get("usage") or {}
    fresh, written, read = (int(usage.get(k) or 0) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    prompt, completion_tokens = fresh + written + read, int(usage.get("output_tokens") or 0)
    cost = result.get("turn_cost_usd")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        total_tokens=prompt + completion_tokens,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=read),
        cost_usd=round(float(cost), 8) if cost is not None else None,
    )


@dataclass(slots=True)
class TurnMapper:
    """Feed it a turn's events in order; it returns the pieces each one yields.

    With ``structured`` set, the turn's text is held back: the result yields one text
    piece, the structured content (see :mod:`.structured`), or a failure.
    """

    structured: Structured | None = None
    text: list[str] = field(default_factory=list)
    """Every text piece so far (joined: the reply as returned)."""
    _held: list[str] = field(default_factory=list)
    _separator_due: bool = False
    _streamed: bool = False
    done: bool = False

    @property
    def reply(self) -> str:
        return "".join(self.text)

    def feed(self, event: Event) -> list[Piece]:
        data = event.data
        if event.type == "text_delta" and data.get("parent_tool_use_id") is None:
            self._streamed = True
            return self._text(str(data.get("text") or ""))
        if event.type == "assistant_message" and data.get("parent_tool_use_id") is None:
            texts = [str(item.get("content") or "") for item in data.get("content") or [] if item.get("type") == "text"]
            pieces = [] if self._streamed else self._text("".join(texts))  # a message that never streamed (e.g. an API error text)
            self._streamed = False
            if any(texts):
                self._separator_due = True
            return pieces
        if event.type == "result":
            self.done = True
            if data.get("is_error"):
                return [Failure(result_failure(data))]
            if self.structured is not None:
                try:
                    content = self.structured.content(data, "".join(self._held))
                except GatewayError as exc:
                    return [Failure(exc)]
                self.text = [content]
                return [Text(content), End(FINISH_REASONS.get(data.get("stop_reason"), "stop"), map_usage(data))]
            return [End(FINISH_REASONS.get(data.get("stop_reason"), "stop"), map_usage(data))]
        if event.type == "error":
            self.done = True
            message = str(data.get("message") or "the agent's turn failed")
            return [Failure(GatewayError(502, message, type="server_error", code=str(data.get("reason") or "agent_error")))]
        return []

    def _text(self, text: str) -> list[Piece]:
        if not text:
            return []
        if self.structured is not None:
            self._held.append(text)
            return []
        if self._separator_due and self.text:
            text = SEPARATOR + text
        self._separator_due = False
        self.text.append(text)
        return [Text(text)]


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


@dataclass(slots=True)
class Envelope:
    """What every response of one call shares: its id, creation time (Unix seconds) and model name."""

    model: str
    id: str = field(default_factory=completion_id)
    created: int = field(default_factory=lambda: int(time.time()))

    def chunk(self, delta: Delta | None = None, finish_reason: str | None = None, usage: Usage | None = None) -> ChatCompletionChunk:
        choices = [] if delta is None else [ChunkChoice(delta=delta, finish_reason=finish_reason)]
        return ChatCompletionChunk(id=self.id, created=self.created, model=self.model, choices=choices, usage=usage)


def _frame(chunk: ChatCompletionChunk) -> dict[str, Any]:
    """A chunk as JSON-ready dict: unset fields left out, except each choice's ``finish_reason``
    and ``logprobs``, which OpenAI always sends (null until the end)."""
    frame = chunk.model_dump(exclude_none=True)
    for choice in frame["choices"]:
        choice.setdefault("finish_reason", None)
        choice.setdefault("logprobs", None)
    return frame


def chunks(envelope: Envelope, piece: Piece, include_usage: bool) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` frames (or the error frame) one piece becomes, as JSON-ready dicts."""
    if isinstance(piece, Text):
        return [_frame(envelope.chunk(Delta(content=piece.text)))]
    if isinstance(piece, End):
        frames = [_frame(envelope.chunk(Delta(), piece.finish_reason))]
        if include_usage:
            frames.append(_frame(envelope.chunk(usage=piece.usage)))
        return frames
    return [piece.error.body()]


def role_chunk(envelope: Envelope) -> dict[str, Any]:
    """The first frame: the assistant role and empty content."""
    return _frame(envelope.chunk(Delta(role="assistant", content="")))


def completion(envelope: Envelope, pieces: list[Piece]) -> ChatCompletion:
    """One ``chat.completion`` from a whole turn's pieces.

    Raises:
        GatewayError: The turn failed (its :class:`Failure`), or ended without a result.
    """
    text: list[str] = []
    for piece in pieces:
        if isinstance(piece, Text):
            text.append(piece.text)
        elif isinstance(piece, Failure):
            raise piece.error
        else:
            message = AssistantMessage(content="".join(text))
            choice = Choice(message=message, finish_reason=piece.finish_reason)
            return ChatCompletion(id=envelope.id, created=envelope.created, model=envelope.model, choices=[choice], usage=piece.usage)
    raise GatewayError(502, "the agent's turn ended without a result (its session closed)", type="server_error", code="agent_error")
