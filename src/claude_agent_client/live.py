"""The live view of one turn: streamed Markdown, tool panels and a spinner.

Text arrives twice from the server: piece by piece (``text_delta``) and whole in
the following ``assistant_message``. :class:`TurnView` renders the pieces as
Markdown while they stream (finished lines are printed for good, the last few
stay in a live region that is redrawn) and uses the whole message only to
complete the block, so nothing is printed twice.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

from claude_agent_protocol import (
    AssistantMessageEvent,
    ErrorEvent,
    PermissionResolvedEvent,
    ReplyItem,
    ResultEvent,
    TextDeltaEvent,
    TextItem,
    ThinkingItem,
    ToolResultEvent,
    ToolResultItem,
    ToolUseItem,
    TurnReply,
)
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from . import render
from .wire import StatusEvent

__all__ = ["TurnView"]

LIVE_WINDOW = 8
"""Lines at the end of a streaming block that may still change (kept in the live region)."""
MIN_REDRAW = 0.05
_TRAILING_SPACE = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$")
"""Seconds between re-renders of streaming text."""


class _Working:
    """A spinner with the elapsed time, recomputed at every refresh."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.label = "Working"
        self._spinner = Spinner("dots", style="cyan")

    def __rich__(self) -> RenderableType:
        elapsed = int(time.monotonic() - self.started)
        self._spinner.update(text=Text(f"{self.label}… {elapsed}s · Ctrl-C to interrupt", style="dim"))
        return self._spinner


class TurnView:
    """Shows one turn's events on ``console``.

    On a terminal a :class:`rich.live.Live` region holds the streaming tail and
    the spinner; elsewhere (pipes, files) the raw text is written as it streams.

    Args:
        console: Where to draw.
        cwd: The session's working directory (paths are shown relative to it).
    """

    def __init__(self, console: Console, cwd: str | None = None) -> None:
        self.console = console
        self.cwd = cwd
        self._live: Live | None = None
        self._working = _Working()
        self._text = ""
        self._printed = 0
        self._last_draw = 0.0
        self._tail: list[str] = []
        self._shown = ""
        """Text of the current block printed for good by :meth:`pause` (its rest follows as a new block)."""
        self._raw_mid_line = False
        self._raw = not console.is_terminal
        """Not a terminal (pipe, file): stream the text as it comes, without Markdown rendering."""

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Show the spinner (terminal only)."""
        if self.console.is_terminal and self._live is None:
            self._live = Live(self._renderable(), console=self.console, transient=True, refresh_per_second=8,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()

    def pause(self) -> None:
        """Commit streamed text and remove the live region (before asking the user something,
        or while they type); text that streams on afterwards is shown as a block of its own."""
        self._emit(final=True)
        if not self._raw and self._text:
            self._shown += self._text
            self._text, self._printed, self._tail = "", 0, []
        if self._live is not None:
            self._live.stop()
            self._live = None

    def stop(self) -> None:
        """End of the turn: print whatever is left."""
        self.pause()
        self._reset_text()

    def set_label(self, label: str) -> None:
        self._working.label = label

    # -- output ------------------------------------------------------------

    def print(self, *renderables: RenderableType) -> None:
        """Print above the live region (on its own line when raw text is streaming)."""
        self._end_raw_line()
        self.console.print(*renderables)

    def _end_raw_line(self) -> None:
        if self._raw_mid_line:
            self.console.out("", highlight=False)
            self._raw_mid_line = False

    def show(self, event: Any) -> None:
        """Render one display event (``text_delta``, ``assistant_message``, ``tool_result``,
        ``permission_resolved``, ``result``, ``error``, ``status``: protocol event models);
        other types are ignored."""
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def show_reply(self, reply: TurnReply) -> None:
        """Render a blocking reply (a server without the event stream): its items, then the footer."""
        self._items(reply.messages, subagent=False)
        self._on_result(reply)

    def _on_text_delta(self, event: TextDeltaEvent) -> None:
        if event.parent_tool_use_id:
            return
        piece = event.text
        self._text += piece
        if self._raw:
            self.console.out(piece, end="", highlight=False)
            self.console.file.flush()
            self._raw_mid_line = bool(piece) and not piece.endswith("\n") or (self._raw_mid_line and not piece)
            return
        self.set_label("Writing")
        if time.monotonic() - self._last_draw >= MIN_REDRAW:
            self._emit(final=False)

    def _on_assistant_message(self, event: AssistantMessageEvent) -> None:
        self._items(event.content, subagent=bool(event.parent_tool_use_id))
        if event.error:
            self.print(Text(f"✗ {event.error}", style="red"))

    def _items(self, items: list[ReplyItem], subagent: bool) -> None:
        for item in items:
            if isinstance(item, TextItem) and not subagent:
                self._finish_text(item.content)
            elif isinstance(item, ThinkingItem) and not subagent:
                self._commit_text()
                self.print(render.thinking(item.content))
            elif isinstance(item, ToolUseItem):
                self._commit_text()
                self.print(render.tool_call(item.tool_name, item.tool_input, self.cwd, subagent=subagent))
                self.set_label(f"Running {item.tool_name}")
            elif isinstance(item, ToolResultItem) and not subagent:
                self._tool_result(item.content, item.is_error)

    def _on_tool_result(self, event: ToolResultEvent) -> None:
        if not event.parent_tool_use_id:
            self._tool_result(event.content, event.is_error)

    def _tool_result(self, content: str, is_error: bool) -> None:
        self._commit_text()
        self.print(render.tool_result(content, is_error))
        self.set_label("Thinking")

    def _on_permission_resolved(self, event: PermissionResolvedEvent) -> None:
        if event.reason != "user":
            verdict = "allowed" if event.allowed else "denied"
            self.print(Text(f"  permission {verdict} ({event.reason})", style="yellow"))

    def _on_result(self, result: ResultEvent | TurnReply) -> None:
        self._commit_text()
        self.print(render.footer(result))

    def _on_status(self, event: StatusEvent) -> None:
        """A status change: waking (a hibernated session starting again) and hibernated are
        told in a dim line; the others only steer the spinner's label."""
        notice = render.status_notice(event.status)
        if notice is not None:
            self.print(notice)
        if event.status == "waking":
            self.set_label("Waking the session")
        elif self._working.label == "Waking the session":
            self.set_label("Working")

    def _on_error(self, event: ErrorEvent) -> None:
        self._commit_text()
        self.print(Text(f"✗ {event.message}", style="bold red"))

    # -- streaming text ----------------------------------------------------

    def _finish_text(self, whole: str) -> None:
        """An assistant text block is complete: print what was not streamed yet."""
        if self._raw:
            if whole.startswith(self._text):
                rest = whole[len(self._text):]
            else:
                self._end_raw_line()
                rest = whole
            self.console.out(rest, highlight=False)
            self._text, self._raw_mid_line = "", False
            return
        if self._shown:  # the block was cut by a pause: only its rest is left to show
            shown, self._shown = self._shown, ""
            whole = whole[len(shown):] if whole.startswith(shown) else whole
            if not whole.strip():
                self._reset_text()
                return
        if self._text and whole.startswith(self._text[: max(len(self._text) - 1, 0)]):
            self._text = whole
        elif self._text:
            self._emit(final=True)  # deltas and message disagree: keep what was shown
            self._reset_text()
            return
        else:
            self._text = whole
        self._commit_text()

    def _commit_text(self) -> None:
        if self._raw:
            self._end_raw_line()
            self._text = ""
            return
        if self._text:
            self._emit(final=True)
        self._reset_text()

    def _reset_text(self) -> None:
        self._text, self._printed, self._tail, self._shown = "", 0, [], ""
        self._refresh()

    def _emit(self, final: bool) -> None:
        self._last_draw = time.monotonic()
        if not self._text.strip():
            return
        lines = self._render_lines(self._text)
        if final:
            stable = len(lines)
        elif self._live is None:
            stable = self._printed  # no live region: print blocks whole
        else:
            stable = max(len(lines) - LIVE_WINDOW, self._printed)
        if stable > self._printed:
            self.console.print(Text.from_ansi("\n".join(lines[self._printed:stable])), crop=False, soft_wrap=True)
            self._printed = stable
        self._tail = lines[self._printed:]
        self._refresh()

    def _render_lines(self, text: str) -> list[str]:
        sink = Console(
            file=io.StringIO(), width=self.console.width, force_terminal=self.console.is_terminal,
            color_system=self.console.color_system, no_color=self.console.no_color, highlight=False,
        )
        sink.print(render.markdown(text))
        output = sink.file.getvalue()  # type: ignore[attr-defined]
        return [_TRAILING_SPACE.sub(r"\1", line) for line in output.rstrip("\n").split("\n")]

    def _renderable(self) -> RenderableType:
        if self._tail:
            return Group(Text.from_ansi("\n".join(self._tail)), self._working)
        return self._working

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._renderable())
