"""Reply items: what an assistant turn said and did, in the blocking reply's ``messages`` and the
``content`` of ``assistant_message`` events. A discriminated union on ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import WireModel


class TextItem(WireModel):
    """Text the model wrote."""

    type: Literal["text"] = "text"
    content: str


class ThinkingItem(WireModel):
    """The model's visible reasoning (extended thinking)."""

    type: Literal["thinking"] = "thinking"
    content: str


class ToolUseItem(WireModel):
    """A tool call the model made (its result follows as a ``tool_result``)."""

    type: Literal["tool_use"] = "tool_use"
    tool_use_id: str
    tool_name: str
    tool_input: dict[str, Any] = Field(default_factory=dict)


class ToolResultItem(WireModel):
    """What a tool returned, as text (non-text parts named in brackets)."""

    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str = ""
    is_error: bool = False


ReplyItem = Annotated[TextItem | ThinkingItem | ToolUseItem | ToolResultItem, Field(discriminator="type")]
"""One item of a reply."""
