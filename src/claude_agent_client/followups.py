"""Messages typed while a turn runs (:mod:`.typeahead`): queued after it, or steered into it.

A plain line is sent with ``mode: "queue"``: the server runs it once the running turn (and
the messages queued before it) have ended, and the client says so ("queued"), then again
when it starts ("running the queued message"). ``/steer TEXT`` is sent with ``mode:
"steer"``: it joins the running turn as new user input. Each request blocks until its turn
ends; its reply is not shown (the event stream shows the turns), only its failure: a
cancelled queued message (``DELETE /sessions/{id}/queue/{queue_id}``) answers 409.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from claude_agent_protocol import SendMode, TurnReply
from rich.text import Text

from .api import AgentClient
from .errors import ClientError, Conflict
from .live import TurnView

__all__ = ["Followups", "Posted", "parse_line"]

Posted = tuple[str, SendMode, TurnReply | ClientError]
"""``(text, mode, reply or error)`` of a follow-up's request."""
NOW = ("interrupt", "/interrupt")
"""Lines that act at once during a turn."""
GRACE = 2.0
"""Seconds the requests still running at the end get before they are cancelled."""


def parse_line(line: str) -> tuple[SendMode, str] | str | None:
    """What a line typed during a turn asks for: ``(mode, text)`` to send, ``"interrupt"``, or
    None for another command (``exit``, ``/model x``, ...: it runs once the turn has ended)."""
    text = line.strip()
    if text.lower() in NOW:
        return "interrupt"
    head, _, rest = text.partition(" ")
    if head.lower() == "/steer":
        return ("steer", rest.strip()) if rest.strip() else None
    if text.startswith("/"):
        return None
    from . import commands  # here: commands imports the chat, which imports this module

    try:
        if commands.parse(text) is not None:  # a bare command word (``exit``, ``quit``, ...)
            return None
    except commands.UnknownCommand:
        return None
    return "queue", text


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class Followups:
    """The follow-up messages of one turn runner.

    Args:
        client: The API client.
        session_id: The session.
        view: Where notices are printed.
        posted: Called (on the runner's loop) with :data:`Posted` when a request ends.
    """

    def __init__(self, client: AgentClient, session_id: str, view: TurnView, posted: Callable[[Posted], None]) -> None:
        self._client = client
        self._session_id = session_id
        self._view = view
        self._posted = posted
        self.waiting: list[str] = []
        """Queued messages whose turn has not started yet, oldest first."""
        self._tasks: list[asyncio.Task[None]] = []
        self._held: list[tuple[SendMode, str]] | None = []
        """Follow-ups typed before the runner's own turn started (None once it has): sent
        then, so they never overtake it."""

    def send(self, mode: SendMode, text: str) -> None:
        """Send ``text`` with ``mode`` (in the background; after :meth:`open`) and say so."""
        if mode == "queue":
            self.waiting.append(text)
            self._view.print(Text(f"⧗ queued: {_short(text)} (runs when the current turn ends)", style="cyan"))
        else:
            self._view.print(Text(f"↪ steering the running turn: {_short(text)}", style="cyan"))
        if self._held is not None:
            self._held.append((mode, text))
        else:
            self._tasks.append(asyncio.create_task(self._post(mode, text)))

    def open(self) -> None:
        """The runner's turn has started: send what was held back, and from now on at once."""
        held, self._held = self._held or [], None
        for mode, text in held:
            self._tasks.append(asyncio.create_task(self._post(mode, text)))

    def started(self, message: str) -> bool:
        """A turn started with ``message``: whether it is one of ours that was queued (said so)."""
        if message in self.waiting:
            self.waiting.remove(message)
            self._view.print(Text(f"▶ running the queued message: {_short(message)}", style="cyan"))
            return True
        return False

    def ended(self, posted: Posted) -> None:
        """A follow-up's request ended: say why when it failed."""
        text, mode, value = posted
        if not isinstance(value, ClientError):
            if text in self.waiting:  # its turn ran without a matching turn_started (another text shown)
                self.waiting.remove(text)
            return
        if text in self.waiting:
            self.waiting.remove(text)
        if isinstance(value, Conflict) and mode == "queue":
            self._view.print(Text(f"✗ queued message cancelled: {_short(text)}", style="yellow"))
        else:
            self._view.print(Text(f"✗ could not {'steer' if mode == 'steer' else 'queue'} {_short(text)!r}: {value}", style="red"))

    async def close(self) -> None:
        """Let the requests still running finish (at most :data:`GRACE` seconds), then cancel them;
        say which held-back ones were never sent (the runner's own turn did not start)."""
        for _, text in self._held or []:
            self._view.print(Text(f"✗ not sent (the turn did not start): {_short(text)}", style="yellow"))
        self._held = None
        running = [t for t in self._tasks if not t.done()]
        if running:
            await asyncio.wait(running, timeout=GRACE)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _post(self, mode: SendMode, text: str) -> None:
        value: Any
        try:
            value = await self._client.send_message(self._session_id, text, mode)
        except ClientError as exc:
            value = exc
        self._posted((text, mode, value))
