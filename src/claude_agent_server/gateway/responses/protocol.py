"""OpenAI Responses API wire models, in the order and shapes of OpenAI's reference.

Contract: https://platform.openai.com/docs/api-reference/responses (``create``,
``retrieve``, ``delete``, ``input_items``) and ``/responses-streaming`` (the typed stream
events). Every model allows unknown fields (``extra="allow"``) and ignores them.

Applied: ``model``, ``input``, ``instructions``, ``previous_response_id``, ``store``,
``stream``, ``text.format``, ``metadata``, ``user``. Accepted and not applied (the agent
session decides): ``max_output_tokens``, ``temperature``, ``top_p``, ``truncation``,
``reasoning``, ``tools`` with ``tool_choice`` ``auto``/``none`` (the caller's tools are never
called: no ``function_call`` items are returned).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from ..protocol import MAX_MESSAGES, OpenAIModel, _validated

MAX_METADATA = 16
"""Metadata pairs a response may carry (OpenAI's limit)."""


class TextConfig(OpenAIModel):
    format: dict[str, Any] | None = None


class ResponseCreateRequest(OpenAIModel):
    """``POST /v1/responses``."""

    model: str = Field(min_length=1, max_length=256)
    input: str | list[dict[str, Any]] = Field(min_length=1, max_length=MAX_MESSAGES)
    instructions: str | None = None
    previous_response_id: str | None = Field(None, max_length=64)
    store: StrictBool | None = True
    stream: StrictBool | None = False
    text: TextConfig | None = None
    metadata: dict[str, str] | None = Field(None, max_length=MAX_METADATA)
    user: str | None = Field(None, max_length=512)
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    tool_choice: str | dict[str, Any] | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ResponseCreateRequest:
        """Validate a parsed body.

        Raises:
            GatewayError: 400 naming the first field at fault.
        """
        return _validated(lambda: cls.model_validate(body))


class OutputText(OpenAIModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = Field(default_factory=list)
    logprobs: list[Any] = Field(default_factory=list)


class OutputMessage(OpenAIModel):
    id: str
    type: Literal["message"] = "message"
    status: Literal["in_progress", "completed", "incomplete"]
    role: Literal["assistant"] = "assistant"
    content: list[OutputText] = Field(default_factory=list)


class InputTokensDetails(OpenAIModel):
    cached_tokens: int = 0


class OutputTokensDetails(OpenAIModel):
    reasoning_tokens: int = 0


class ResponseUsage(OpenAIModel):
    """Tokens of the whole turn; ``input_tokens`` includes cache reads and writes;
    ``cost_usd`` is this server's extension: the turn's cost in USD."""

    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int
    cost_usd: float | None = None


class ResponseError(OpenAIModel):
    code: str
    message: str


class Response(OpenAIModel):
    """The ``response`` object."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["completed", "failed", "in_progress", "incomplete"]
    error: ResponseError | None = None
    incomplete_details: dict[str, Any] | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputMessage] = Field(default_factory=list)
    parallel_tool_calls: bool = False
    previous_response_id: str | None = None
    store: bool = True
    temperature: float | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: Any = "auto"
    tools: list[Any] = Field(default_factory=list)
    top_p: float | None = None
    truncation: str = "disabled"
    usage: ResponseUsage | None = None
    user: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class DeletedResponse(OpenAIModel):
    """``DELETE /v1/responses/{id}``."""

    id: str
    object: Literal["response"] = "response"
    deleted: Literal[True] = True


class InputItemList(OpenAIModel):
    """``GET /v1/responses/{id}/input_items``: the response's input items (each with an ``id``)."""

    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class StreamEvent(OpenAIModel):
    """One typed stream event (``response.created`` … ``response.completed``/``failed``): ``type``,
    ``sequence_number`` (0, 1, 2, … in order) and the event's own fields."""

    type: str
    sequence_number: int


__all__ = [
    "DeletedResponse",
    "InputItemList",
    "OutputMessage",
    "OutputText",
    "Response",
    "ResponseCreateRequest",
    "ResponseError",
    "ResponseUsage",
    "StreamEvent",
]
