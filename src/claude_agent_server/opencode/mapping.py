"""Tables and pure functions: Claude Code's tools and permission requests in OpenCode's terms.

OpenCode's TUI renders tool parts by its own tool names (``bash``, ``read``,
``edit``, ``write``, ``glob``, ``grep``, ``webfetch``, ``task``, ``todowrite``)
with camelCase inputs (``filePath``, ``oldString``), and asks permissions by
kind (``permission``) with ``patterns`` (always an array) and ``always`` (the
patterns an "always" answer allows; here the CLI's suggested rules).
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from .ids import derive, value_of_ms
from .protocol import PermissionRequest, PermissionTool

TOOL_NAMES: dict[str, str] = {
    "Bash": "bash",
    "BashOutput": "bash",
    "Read": "read",
    "Write": "write",
    "Edit": "edit",
    "MultiEdit": "edit",
    "NotebookEdit": "edit",
    "Glob": "glob",
    "Grep": "grep",
    "LS": "list",
    "WebFetch": "webfetch",
    "WebSearch": "websearch",
    "Task": "task",
    "Agent": "task",
    "TodoWrite": "todowrite",
}
"""Claude Code tool → OpenCode tool name (others: the name in lower case)."""

PERMISSION_KINDS: dict[str, str] = {**TOOL_NAMES, "Write": "edit", "MultiEdit": "edit", "NotebookEdit": "edit"}
"""Claude Code tool → OpenCode permission kind (OpenCode asks ``edit`` for every file change)."""

PATTERN_KEYS: dict[str, str] = {
    "bash": "command",
    "read": "file_path",
    "edit": "file_path",
    "write": "file_path",
    "glob": "pattern",
    "grep": "pattern",
    "webfetch": "url",
    "websearch": "query",
}
"""OpenCode permission kind → the tool input field its patterns come from."""

STOP_REASONS: dict[str, str] = {"end_turn": "stop", "tool_use": "tool-calls", "max_tokens": "length", "stop_sequence": "stop"}


def tool_name(name: str) -> str:
    return TOOL_NAMES.get(name, name.lower())


def camel(key: str) -> str:
    """``file_path`` → ``filePath``."""
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def camel_input(tool_input: dict[str, Any]) -> dict[str, Any]:
    """A tool input with OpenCode's camelCase keys (top level; values as they are)."""
    return {camel(key): value for key, value in tool_input.items()}


def ms(iso: str | None) -> int:
    """An ISO-8601 time as milliseconds since the epoch (0 when missing or unreadable)."""
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000) if iso else 0
    except ValueError:
        return 0


def tool_title(name: str, tool_input: dict[str, Any]) -> str:
    """A one-line title for a tool part (the description, command, path or pattern)."""
    for key in ("description", "command", "file_path", "pattern", "url", "query"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return value[:200]
    return name


def _diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}")
    return "".join(lines)


def permission_id(request: dict[str, Any]) -> str:
    """The ``per_`` id of a permission request (``request_id`` and ``created_at`` of its JSON form)."""
    return derive("per", value_of_ms(ms(request.get("created_at"))), str(request.get("request_id")))


def permission_request(request: dict[str, Any], session_id: str, message_id: str | None) -> PermissionRequest:
    """A permission request (:meth:`PermissionRequest.to_dict` form) as OpenCode's
    ``PermissionRequest``: ``{id, sessionID, permission, patterns, metadata, always, tool?}``."""
    name = str(request.get("tool_name") or "")
    tool_input = request.get("tool_input") if isinstance(request.get("tool_input"), dict) else {}
    kind = PERMISSION_KINDS.get(name, name.lower())
    value = tool_input.get(PATTERN_KEYS.get(kind, ""))
    patterns = [value] if isinstance(value, str) and value else ["*"]
    metadata = camel_input(tool_input)
    path = tool_input.get("file_path")
    if kind == "edit" and isinstance(path, str):
        if isinstance(tool_input.get("content"), str):
            metadata["diff"] = _diff(path, "", tool_input["content"])
        elif isinstance(tool_input.get("old_string"), str) and isinstance(tool_input.get("new_string"), str):
            metadata["diff"] = _diff(path, tool_input["old_string"], tool_input["new_string"])
        metadata["filepath"] = path
    always = [
        str(rule.get("ruleContent") or rule.get("toolName"))
        for suggestion in request.get("suggestions") or []
        if isinstance(suggestion, dict) and suggestion.get("behavior") == "allow"
        for rule in suggestion.get("rules") or []
        if isinstance(rule, dict)
    ]
    tool = PermissionTool(messageID=message_id, callID=request["tool_use_id"]) if request.get("tool_use_id") and message_id else None
    return PermissionRequest(
        id=permission_id(request),
        sessionID=session_id,
        permission=kind,
        patterns=patterns,
        metadata=metadata,
        always=always or patterns,
        tool=tool,
    )
