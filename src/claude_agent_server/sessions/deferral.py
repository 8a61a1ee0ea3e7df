"""Claude Code's deferred tool calls, as parking uses them (pure functions, no session state).

A ``PreToolUse`` hook answering ``permissionDecision: "defer"`` makes Claude Code write a
``hook_deferred_tool`` attachment after the call's ``tool_use`` and stop its run; a CLI
resumed from that transcript runs the call again on connect, asking the hook for the same
``tool_use_id`` (measured with the bundled CLI 2.1.330; see :mod:`.parking`). Here: the
attachment a wake writes for a parked call (:func:`deferred_marker`), the hook's answers
(:func:`hook_answer`), decisions as the registry stores them, and killing a CLI at once.
"""

from __future__ import annotations

import os
import signal
import uuid
from datetime import UTC, datetime
from typing import Any

from .permissions import PermissionDecision


DEFERRED = "hook_deferred_tool"
"""Claude Code's transcript attachment for a tool call a ``PreToolUse`` hook deferred."""


def decision_json(decision: PermissionDecision) -> dict[str, Any]:
    """A decision as the registry stores it."""
    return {
        "allowed": decision.allowed,
        "apply_suggestions": decision.apply_suggestions,
        "message": decision.message,
        "updated_input": decision.updated_input,
        "reason": decision.reason,
    }


def decision_from(data: dict[str, Any] | None) -> PermissionDecision | None:
    """The decision the registry stored (None: unanswered)."""
    if data is None:
        return None
    return PermissionDecision(
        allowed=bool(data.get("allowed")),
        apply_suggestions=bool(data.get("apply_suggestions")),
        message=data.get("message"),
        updated_input=data.get("updated_input"),
        reason=str(data.get("reason") or "user"),
    )


def hook_answer(decision: PermissionDecision | None) -> dict[str, Any]:
    """The ``PreToolUse`` hook output applying ``decision`` (None: defer the call again)."""
    output: dict[str, Any] = {"hookEventName": "PreToolUse"}
    if decision is None:
        output["permissionDecision"] = "defer"
    elif decision.allowed:
        output["permissionDecision"] = "allow"
        output["permissionDecisionReason"] = "A person allowed this parked tool call"
        if decision.updated_input is not None:
            output["updatedInput"] = decision.updated_input
    else:
        output["permissionDecision"] = "deny"
        output["permissionDecisionReason"] = decision.message or "The user denied this tool call"
    return {"hookSpecificOutput": output}


def deferred_marker(entries: list[dict[str, Any]], tool_use_id: str, permission_mode: str) -> dict[str, Any] | None:
    """The ``hook_deferred_tool`` attachment to append to a transcript so that a resumed CLI
    runs the call ``tool_use_id`` again (through the ``PreToolUse`` hook).

    Args:
        entries: The transcript's lines, oldest first.
        tool_use_id: The parked call.
        permission_mode: The session's permission mode (recorded in the attachment).

    Returns:
        The entry to append; None when nothing is to be written: the transcript already
        defers the call.

    Raises:
        LookupError: The call cannot be resumed: the transcript has no such ``tool_use``,
            or already holds its result (the CLI answered it before it stopped).
    """
    use_entry: dict[str, Any] | None = None
    block: dict[str, Any] | None = None
    for entry in entries:
        content = (entry.get("message") or {}).get("content") if isinstance(entry, dict) else None
        if entry.get("type") == "attachment" and (entry.get("attachment") or {}).get("type") == DEFERRED:
            if entry["attachment"].get("toolUseID") == tool_use_id:
                return None
        if not isinstance(content, list):
            continue
        for item in content:
            if not isinstance(item, dict):
                continue
            if entry.get("type") == "assistant" and item.get("type") == "tool_use" and item.get("id") == tool_use_id:
                use_entry, block = entry, item
            elif item.get("type") == "tool_result" and item.get("tool_use_id") == tool_use_id:
                raise LookupError(f"the transcript already holds the result of {tool_use_id}")
    if use_entry is None or block is None:
        raise LookupError(f"the transcript has no tool call {tool_use_id}")
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "parentUuid": use_entry.get("uuid"),
        "isSidechain": False,
        "attachment": {
            "type": DEFERRED, "toolUseID": tool_use_id, "toolName": block.get("name"), "toolInput": block.get("input") or {},
            "hookName": "parked", "hookEvent": "PreToolUse", "permissionMode": permission_mode,
        },
        "type": "attachment",
        "uuid": str(uuid.uuid4()),
        "timestamp": timestamp,
        "userType": "external",
        "entrypoint": use_entry.get("entrypoint", "sdk-py"),
        "cwd": use_entry.get("cwd"),
        "sessionId": use_entry.get("sessionId"),
        "version": use_entry.get("version"),
    }


def blocks(entry: Any) -> list[dict[str, Any]]:
    """The content blocks of a transcript line (none for a line without a message)."""
    content = (entry.get("message") or {}).get("content") if isinstance(entry, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def kill_process(client: Any) -> bool:
    """Kill an SDK client's CLI at once (``SIGKILL`` to its process group when it leads one:
    the launcher starts it with ``setsid``), so it writes nothing more. False when the client
    has no process to kill (a fake, or already gone)."""
    process = getattr(getattr(client, "_transport", None), "_process", None)
    pid = getattr(process, "pid", None)
    if not isinstance(pid, int) or getattr(process, "returncode", None) is not None:
        return False
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
