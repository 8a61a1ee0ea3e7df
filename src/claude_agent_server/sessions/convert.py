"""SDK messages → session event data (plain JSON-ready dicts).

The blocking reply's ``messages`` items come from here too:
``{type:"text",content}``, ``{type:"tool_use",tool_use_id,tool_name,tool_input}``,
``{type:"tool_result",tool_use_id,content,is_error}``, ``{type:"thinking",content}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    StreamEvent,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

Emitted = tuple[str, dict[str, Any]]
"""``(event_type, data)``."""


def tool_result_text(content: Any) -> str:
    """A tool result's content as text (list content joined; non-text parts named)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, dict) and item.get("type") == "text":
                parts.append(str(item.get("text", "")))
            elif isinstance(item, dict):
                parts.append(f"[{item.get('type', 'content')}]")
            else:
                parts.append(str(item))
        return "\n".join(parts)
    return str(content)


def content_item(block: Any) -> dict[str, Any] | None:
    """One assistant content block as a reply item, or None for blocks clients don't see."""
    if isinstance(block, TextBlock):
        return {"type": "text", "content": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "tool_use_id": block.id, "tool_name": block.name, "tool_input": block.input}
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "content": block.thinking}
    if isinstance(block, ToolResultBlock):
        return {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": tool_result_text(block.content),
            "is_error": bool(block.is_error),
        }
    return None


STOP_REASONS = {
    "error_max_budget_usd": "The turn stopped: the session's budget (max_budget_usd) is spent.",
    "error_max_turns": "The turn stopped: it reached the session's max_turns.",
}
"""Readable reasons for the result subtypes that stop a turn on a limit."""


def result_data(message: ResultMessage) -> dict[str, Any]:
    """The ``result`` event's data; the blocking reply's summary fields (a turn stopped by a limit
    names it in ``errors``)."""
    errors = message.errors
    if message.subtype in STOP_REASONS and not errors:
        errors = [STOP_REASONS[message.subtype]]
    return {
        "result": message.result,
        "cost_usd": message.total_cost_usd,
        "num_turns": message.num_turns,
        "duration_ms": message.duration_ms,
        "usage": message.usage,
        "is_error": message.is_error,
        "stop_reason": message.stop_reason,
        "terminal_reason": message.terminal_reason,
        "subtype": message.subtype,
        "errors": errors,
        "structured_output": message.structured_output,
        "user_message_uuid": message.user_message_uuid,
    }


def events_for(message: Any) -> Iterator[Emitted]:
    """The events one SDK message produces (none for messages clients don't need)."""
    if isinstance(message, StreamEvent):
        event = message.event
        delta = event.get("delta") or {}
        if event.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
            yield "text_delta", {"text": delta.get("text", ""), "parent_tool_use_id": message.parent_tool_use_id}
    elif isinstance(message, AssistantMessage):
        items = [item for block in message.content if (item := content_item(block))]
        yield "assistant_message", {
            "uuid": message.uuid,
            "model": message.model,
            "content": items,
            "parent_tool_use_id": message.parent_tool_use_id,
            "error": message.error,
        }
    elif isinstance(message, UserMessage) and isinstance(message.content, list):
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                item = content_item(block) or {}
                item.pop("type", None)
                yield "tool_result", {**item, "parent_tool_use_id": message.parent_tool_use_id}
    elif isinstance(message, ResultMessage):
        yield "result", result_data(message)
