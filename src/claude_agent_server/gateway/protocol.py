"""OpenAI Chat Completions wire models, in the order and shapes of OpenAI's reference.

Contract: https://platform.openai.com/docs/api-reference/chat/create (request),
``/chat/object`` (``chat.completion``), ``/chat/streaming`` (``chat.completion.chunk``)
and ``/models``. Every model allows unknown fields (``extra="allow"``) and ignores
them, so newer clients keep working; the request converts to the gateway's own
terms with :meth:`ChatCompletionRequest.to_domain`.

Extension: ``usage.cost_usd`` — the turn's cost in USD, as the session reports it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, ValidationError

from ..sessions.prompt import MAX_PROMPT_CHARACTERS
from .errors import bad_request
from .history import Conversation, split

MAX_MESSAGES = 10_000
"""Messages one request may hold."""
VALIDATION_SLICE = 200
"""Messages validated per call by :meth:`ChatCompletionRequest.from_body`: one call over
10,000 messages holds the GIL for a few tenths of a second, stalling the event loop
even from a worker thread; between slices the loop runs."""


class OpenAIModel(BaseModel):
    """Base: unknown fields are kept and ignored."""

    model_config = ConfigDict(extra="allow")


# -- request ---------------------------------------------------------------------


class ImageURL(OpenAIModel):
    url: str
    detail: str | None = None


class ContentPart(OpenAIModel):
    """``{"type": "text", "text"}`` or ``{"type": "image_url", "image_url": {"url"}}``."""

    type: str
    text: str | None = None
    image_url: ImageURL | str | None = None


class FunctionCall(OpenAIModel):
    name: str = ""
    arguments: str | dict[str, Any] = "{}"


class ToolCall(OpenAIModel):
    id: str = ""
    type: str = "function"
    function: FunctionCall = Field(default_factory=FunctionCall)


class ChatMessage(OpenAIModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class StreamOptions(OpenAIModel):
    include_usage: StrictBool = False


class ChatCompletionRequest(OpenAIModel):
    """``POST /v1/chat/completions``.

    Accepted and not applied (the agent session decides): ``max_tokens``,
    ``max_completion_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed``,
    ``user``, and ``tools`` with ``tool_choice`` ``auto`` or
    ``none`` (the caller's tools are never called: no ``tool_calls`` are returned).
    Applied: ``response_format`` (``json_schema``: the session's ``output_format``, the
    content is the JSON of its structured output; ``json_object``: the reply must parse;
    see :mod:`.structured`).
    Refused with 400: ``n`` > 1, and a ``tool_choice`` that demands a tool call
    (``required`` or a named function), which this server can never honour.
    """

    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: StrictBool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int | None = Field(None, ge=1)
    user: str | None = Field(None, max_length=512)
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ChatCompletionRequest:
        """Validate a parsed request body, its messages in slices of :data:`VALIDATION_SLICE`
        (CPU-bound: call it in a worker thread).

        Raises:
            GatewayError: 400 naming the first field at fault (``messages.3.role: ...``).
        """
        messages = body.get("messages")
        if not isinstance(messages, list) or len(messages) <= VALIDATION_SLICE:
            return _validated(lambda: cls.model_validate(body))
        if len(messages) > MAX_MESSAGES:
            raise bad_request(f"messages: at most {MAX_MESSAGES} messages, not {len(messages)}", "messages")
        request = _validated(lambda: cls.model_validate({**body, "messages": messages[:VALIDATION_SLICE]}))
        for start in range(VALIDATION_SLICE, len(messages), VALIDATION_SLICE):
            part = messages[start : start + VALIDATION_SLICE]
            request.messages.extend(_validated(lambda: _MESSAGES.validate_python(part), ("messages", start)))
        return request

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def to_domain(self) -> Conversation:
        """The conversation: system prompt, normalised history and new input.

        Raises:
            GatewayError: 400 for messages that cannot be represented, ``n`` > 1, or a
                ``tool_choice`` that demands a call of the caller's tools.
        """
        if self.n is not None and self.n > 1:
            raise bad_request(f"n: one agent turn gives one reply; send n=1 (or leave it out), not {self.n}", "n")
        if self.tool_choice not in (None, "auto", "none"):
            raise bad_request(
                "tool_choice: this server never returns tool_calls (its agent runs its own tools and answers in text), "
                "so it cannot force a call of your tools; send tool_choice \"auto\" or \"none\", or leave it out",
                "tool_choice",
            )
        conversation = split([m.model_dump(exclude_none=True) for m in self.messages])
        system = conversation.system or ""
        if "\x00" in system:
            raise bad_request("messages: the system and developer messages must not contain a NUL character", "messages")
        if len(system) > MAX_PROMPT_CHARACTERS:
            raise bad_request(
                f"messages: the system and developer messages hold {len(system)} characters; "
                f"a session's system prompt takes at most {MAX_PROMPT_CHARACTERS}",
                "messages",
            )
        return conversation


_MESSAGES = TypeAdapter(list[ChatMessage])


def _validated(validate: Any, offset: tuple[str, int] | None = None) -> Any:
    """``validate()``, its first error as a 400 (``offset``: the field and index the value starts at)."""
    try:
        return validate()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        if offset is not None:
            loc = [offset[0], offset[1] + int(loc[0]), *loc[1:]] if loc else [offset[0]]
        where = ".".join(str(part) for part in loc)
        raise bad_request(f"{where}: {first['msg']}", param=str(loc[0]) if loc else None) from None


# -- responses -------------------------------------------------------------------


class PromptTokensDetails(OpenAIModel):
    cached_tokens: int = 0


class Usage(OpenAIModel):
    """Tokens of the whole turn (every model call it made); ``prompt_tokens`` includes
    cache reads and writes; ``cost_usd`` is this extension's turn cost in USD."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails
    cost_usd: float | None = None


class AssistantMessage(OpenAIModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: None = None


class Choice(OpenAIModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletion(OpenAIModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: None = None


class Delta(OpenAIModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(OpenAIModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(OpenAIModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ModelCard(OpenAIModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(OpenAIModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(OpenAIModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(OpenAIModel):
    """OpenAI's error body: ``{error: {message, type, param, code}}``."""

    error: ErrorDetail
