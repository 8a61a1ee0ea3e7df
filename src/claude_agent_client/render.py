"""Rich renderables for everything the client shows: tool calls, results, permission
requests, footers, session lists and history. Pure functions, no I/O."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from claude_agent_protocol import HistoryMessage, PermissionRequestView, ResultEvent, TurnReply
from rich import box
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .wire import history_content, parse_time

if TYPE_CHECKING:
    from .picker import SessionChoice

__all__ = [
    "age",
    "describe_status",
    "describe_suggestion",
    "footer",
    "history",
    "markdown",
    "permission_panel",
    "session_state",
    "sessions_table",
    "status_notice",
    "thinking",
    "tool_call",
    "tool_result",
]

PREVIEW_LINES = 8
RESULT_LINES = 4
THEME_CODE = "ansi_dark"


def markdown(text: str) -> Markdown:
    """Assistant text as Markdown."""
    return Markdown(text, code_theme=THEME_CODE)


def thinking(text: str) -> Text:
    """A thinking block: dimmed and italic."""
    return Text(f"✻ {text.strip()}", style="dim italic")


def short_path(path: str, cwd: str | None) -> str:
    """``path`` relative to ``cwd`` when it lies inside it."""
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return os.path.relpath(path, cwd)
    return path


def _clip(lines: list[str], limit: int) -> tuple[str, int]:
    return "\n".join(lines[:limit]), max(len(lines) - limit, 0)


def _code(text: str, path: str) -> Syntax:
    lexer = Syntax.guess_lexer(path, text) if path else "text"
    return Syntax(text, lexer, theme=THEME_CODE, line_numbers=True, word_wrap=True, background_color="default")


def _diff(old: str, new: str, limit: int = 20) -> RenderableType:
    lines = [
        line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
        if not line.startswith(("---", "+++"))
    ]
    shown, hidden = _clip(lines, limit)
    parts: list[RenderableType] = [Syntax(shown, "diff", theme=THEME_CODE, word_wrap=True, background_color="default")]
    if hidden:
        parts.append(Text(f"… {hidden} more diff lines", style="dim"))
    return Group(*parts)


def _tool_body(name: str, tool_input: dict[str, Any], cwd: str | None) -> list[RenderableType]:
    if name == "Bash":
        body: list[RenderableType] = [Text("$ " + str(tool_input.get("command", "")), style="bold")]
        if tool_input.get("description"):
            body.append(Text(str(tool_input["description"]), style="dim"))
        return body
    if name == "Write":
        path = str(tool_input.get("file_path", ""))
        content = str(tool_input.get("content", ""))
        shown, hidden = _clip(content.splitlines(), PREVIEW_LINES)
        body = [Text(short_path(path, cwd), style="bold"), _code(shown, path)]
        if hidden:
            body.append(Text(f"… {hidden} more lines", style="dim"))
        return body
    if name in ("Edit", "MultiEdit"):
        path = str(tool_input.get("file_path", ""))
        edits = tool_input.get("edits") or [tool_input]
        body = [Text(short_path(path, cwd), style="bold")]
        body += [_diff(str(e.get("old_string", "")), str(e.get("new_string", ""))) for e in edits if isinstance(e, dict)]
        return body
    if name in ("Read", "NotebookEdit"):
        path = str(tool_input.get("file_path") or tool_input.get("notebook_path") or "")
        return [Text(short_path(path, cwd), style="bold")]
    if name in ("Glob", "Grep"):
        where = tool_input.get("path")
        return [Text(str(tool_input.get("pattern", "")) + (f"  in {short_path(str(where), cwd)}" if where else ""), style="bold")]
    if name == "TodoWrite":
        marks = {"completed": "☒", "in_progress": "◐"}
        return [Text(f"{marks.get(t.get('status'), '☐')} {t.get('content', '')}") for t in tool_input.get("todos", []) if isinstance(t, dict)]
    lines = [f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in tool_input.items()]
    shown, hidden = _clip([line if len(line) <= 200 else line[:199] + "…" for line in lines], PREVIEW_LINES)
    return [Text(shown)] + ([Text(f"… {hidden} more", style="dim")] if hidden else [])


def tool_call(name: str, tool_input: dict[str, Any], cwd: str | None = None, *, subagent: bool = False) -> Panel:
    """A compact panel for one tool call: the tool's name, then for Bash the command,
    for Write the path and a preview, for Edit the path and a diff, else the input."""
    return Panel(
        Group(*_tool_body(name, tool_input, cwd)),
        title=Text(("↳ " if subagent else "⏺ ") + name, style="bold cyan"),
        title_align="left",
        border_style="dim",
        box=box.ROUNDED,
        expand=False,
    )


def tool_result(content: str, is_error: bool = False, limit: int = RESULT_LINES) -> Text:
    """A tool's output collapsed to ``limit`` lines under a ``⎿`` marker."""
    lines = (content or "").rstrip().splitlines() or ["(no output)"]
    shown, hidden = _clip(lines, limit)
    text = Text()
    for i, line in enumerate(shown.splitlines()):
        text.append("  ⎿  " if i == 0 else "     ", style="dim")
        text.append(line + "\n", style="red" if is_error else "")
    if hidden:
        text.append(f"     … +{hidden} lines\n", style="dim")
    text.rstrip()
    return text


def footer(result: ResultEvent | TurnReply) -> Text:
    """The end-of-turn line: status, the turn's cost and the session's total (USD), the
    model calls of the turn (``num_turns``) and its duration: ``── turn $0.0012 · session
    $0.0345 · 1 turn · 2.1 s``. Without ``session_cost_usd`` (an older server) the CLI's
    running total ``cost_usd`` is the session's."""
    parts = []
    if (result.terminal_reason or "").startswith("aborted"):
        parts.append("interrupted")
    elif result.is_error:
        error = result.error if isinstance(result, TurnReply) else None
        detail = error or result.result or next(iter(result.errors or []), None) or result.subtype or "turn failed"
        detail = " ".join(str(detail).split())
        parts.append("error: " + (detail if len(detail) <= 100 else detail[:99] + "…"))
    if result.turn_cost_usd is not None:
        parts.append(f"turn ${result.turn_cost_usd:.4f}")
    session_cost = result.session_cost_usd if result.session_cost_usd is not None else result.cost_usd
    if session_cost is not None:
        parts.append(f"session ${session_cost:.4f}")
    parts.append(f"{result.num_turns} turn{'s' if result.num_turns != 1 else ''}")
    parts.append(f"{result.duration_ms / 1000:.1f} s")
    return Text("── " + " · ".join(parts), style="dim")


def permission_panel(request: PermissionRequestView, warnings: Sequence[str], cwd: str | None = None, *, full: bool = False) -> Panel:
    """The permission question's panel: tool, input, warnings; ``full`` shows the raw input as JSON."""
    body: list[RenderableType] = []
    heading = str(request.title or request.description or "")
    if heading and heading not in json.dumps(request.tool_input):
        body.append(Text(heading, style="italic"))
    if full:
        body.append(Syntax(json.dumps(request.tool_input, indent=2), "json", theme=THEME_CODE, word_wrap=True, background_color="default"))
        if request.decision_reason:
            body.append(Text(f"reason: {request.decision_reason}", style="dim"))
    else:
        body += _tool_body(request.tool_name, request.tool_input, cwd)
    for warning in warnings:
        body.append(Text(f"⚠ {warning}", style="bold yellow"))
    always = [describe_suggestion(s) for s in request.suggestions]
    if always:
        body.append(Text("a = always: " + "; ".join(always), style="dim"))
    return Panel(
        Group(*body),
        title=Text(f"Permission needed: {request.tool_name}", style="bold"),
        title_align="left",
        border_style="yellow" if warnings else "blue",
        box=box.ROUNDED,
        expand=False,
    )


def describe_suggestion(suggestion: dict[str, Any]) -> str:
    """A permission update in words, e.g. ``allow Bash(echo hi *)`` or ``switch to acceptEdits mode``."""
    kind = suggestion.get("type")
    if kind in ("addRules", "replaceRules"):
        rules = [
            f"{r.get('toolName', '?')}({r['ruleContent']})" if r.get("ruleContent") else str(r.get("toolName", "?"))
            for r in suggestion.get("rules") or [] if isinstance(r, dict)
        ]
        return f"{suggestion.get('behavior', 'allow')} {', '.join(rules)}"
    if kind == "setMode":
        return f"switch to {suggestion.get('mode')} mode"
    if kind == "addDirectories":
        return "allow access to " + ", ".join(map(str, suggestion.get("directories") or []))
    return json.dumps(suggestion)


def age(iso: str | None, now: datetime | None = None) -> str:
    """``'5 min ago'`` for a UTC ISO-8601 time (``'?'`` when unparsable)."""
    then = parse_time(iso)
    if then is None:
        return "?"
    seconds = max(((now or datetime.now(UTC)) - then).total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


STATUS_WORDS: dict[str, str] = {
    "connecting": "starting…",
    "waking": "waking…",
    "connected": "ready",
    "running": "running a turn",
    "waiting_permission": "waiting for a permission answer",
    "hibernated": "hibernated — the next message wakes it",
    "closed": "closed — the next message resumes it",
}
"""A session status (``GET /sessions/{id}/status``) in words."""

_STATE_MARKS = {"live": ("● live", "green"), "hibernated": ("◌ hibernated", "blue")}


def describe_status(status: str | None) -> str:
    """A session status in words, e.g. ``hibernated — the next message wakes it``
    (an unknown status is shown as it is)."""
    return STATUS_WORDS.get(status or "", status or "unknown")


def status_notice(status: str | None) -> Text | None:
    """The dim line shown when a turn's stream reports a status change worth telling
    (waking, woken, hibernated); None for the ordinary ones."""
    if status == "waking":
        return Text("◌ waking the hibernated session…", style="dim")
    if status == "hibernated":
        return Text("◌ the session hibernated; the next message wakes it", style="dim")
    return None


def session_state(state: str | None) -> Text:
    """A picker mark: ``● live``, ``◌ hibernated`` (in words, not only color), or nothing."""
    mark, style = _STATE_MARKS.get(state or "", ("", ""))
    return Text(mark, style=style)


def sessions_table(sessions: Iterable[SessionChoice]) -> Table:
    """The picker's table: number, age, preview, project and state (live or hibernated)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column("age", style="dim", no_wrap=True)
    table.add_column("preview", overflow="ellipsis", no_wrap=True, max_width=60)
    table.add_column("project", style="cyan", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("id", style="dim", no_wrap=True)
    for number, session in enumerate(sessions, 1):
        preview = " ".join(session.preview.split()) or "(empty)"
        table.add_row(str(number), age(session.when), Text(preview), Text(session.project), session_state(session.state), session.session_id[:8])
    table.add_row("n", "", "[bold]new session[/]", "", "", "")
    return table


def history(messages: Iterable[HistoryMessage], cwd: str | None = None) -> Group:
    """A transcript: user prompts after ``›``, assistant text as Markdown, tool calls as one-liners."""
    parts: list[RenderableType] = []
    for message in messages:
        role, content = history_content(message)
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and str(block.get("text", "")).strip():
                text = str(block["text"])
                if role == "user":
                    if not text.lstrip().startswith("<"):
                        parts.append(Text("› " + text, style="bold"))
                else:
                    parts.append(markdown(text))
            elif kind == "tool_use":
                tool_input = block.get("input") or {}
                summary = tool_input.get("command") or tool_input.get("file_path") or tool_input.get("pattern") or ""
                parts.append(Text(f"⏺ {block.get('name', '?')} {short_path(str(summary), cwd)}".rstrip(), style="cyan"))
            elif kind == "tool_result":
                content = block.get("content")
                if isinstance(content, list):
                    content = "\n".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
                parts.append(tool_result(str(content or ""), bool(block.get("is_error")), limit=2))
    return Group(*parts)
