"""The permission questions of one turn on the terminal.

One question is on screen at a time; requests that arrive meanwhile wait, in order. Each
request is asked once. A request resolved elsewhere (the dashboard, REST, a timeout) is
withdrawn from the screen, or struck from the waiting list, and the client says how it was
decided ("answered elsewhere: allowed"). The turn's event loop (:mod:`.turn`) decides when
to ask the next one: it first shows the events it held back while a question was on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Literal

from claude_agent_protocol import PermissionRequestView, PermissionResolvedEvent
from rich.console import Console
from rich.text import Text

from .api import AgentClient
from .errors import ClientError, NotFound
from .inputs import UserInput
from .live import TurnView
from .permissions import ask_permission

__all__ = ["Questions", "Resolution"]

Resolution = Literal["other", "withdrawn", "hold", "said"]
"""What a ``permission_resolved`` event meant here: ``other`` (a request this client answered,
or never meant to ask: show the event as usual), ``withdrawn`` (the question on screen was
taken off: show what was held back, then ask the next), ``hold`` (a waiting request was
resolved while another question is on screen: hold the event back, it is said after that
question), ``said`` (a waiting request was resolved and that was said)."""


class Questions:
    """Asks about a turn's permission requests and sends the answers.

    Args:
        client: The API client.
        session_id: The session whose requests these are.
        ui: Where answers are read.
        console: Where questions are drawn.
        view: The turn's live view (paused while a question is asked).
        cwd: The session's working directory (for warnings).
        done: Called with a request id when its question ended (answered, or Ctrl-C); not
            called for a withdrawn question.
        stopping: True once the turn is being interrupted: no new question is asked.
        interrupt: Called when the user presses Ctrl-C at a question.
    """

    def __init__(
        self, client: AgentClient, session_id: str, ui: UserInput, console: Console, view: TurnView, cwd: str | None,
        *, done: Callable[[str], None], stopping: Callable[[], bool], interrupt: Callable[[], None],
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.ui = ui
        self.console = console
        self.view = view
        self.cwd = cwd
        self._done = done
        self._stopping = stopping
        self._interrupt = interrupt
        self._asked: set[str] = set()
        self._asking: tuple[PermissionRequestView, asyncio.Task[None]] | None = None
        """The question on screen and the task asking it."""
        self._waiting: list[PermissionRequestView] = []
        """Requests to ask after the current one, in order."""
        self._answered_here: set[str] = set()
        """Requests the user answered in this client (their ``permission_resolved`` is ours)."""
        self._unasked: dict[str, PermissionRequestView] = {}
        """Waiting requests resolved elsewhere while another question was on screen (said after it)."""

    @property
    def on_screen(self) -> bool:
        """True while a question is being asked."""
        return self._asking is not None

    def enqueue(self, request: PermissionRequestView) -> None:
        """Ask about ``request`` now, or after the question on screen (each request once)."""
        if request.request_id in self._asked:
            return
        self._asked.add(request.request_id)
        if self._stopping():
            return
        if self._asking is None:
            self._start(request)
        else:
            self._waiting.append(request)

    def finished(self, request_id: str) -> bool:
        """The question about ``request_id`` ended (the ``done`` callback): True when it was
        the one on screen (now taken off)."""
        if self._asking is None or self._asking[0].request_id != request_id:
            return False
        self._asking = None
        return True

    def ask_next(self) -> None:
        """Ask the next waiting request, unless a question is on screen or the turn stops."""
        if self._asking is None and self._waiting and not self._stopping():
            self._start(self._waiting.pop(0))

    async def resolved(self, event: PermissionResolvedEvent) -> Resolution:
        """A ``permission_resolved`` event: for a request this client is asking or was to ask,
        and that it did not answer itself, stop asking and say how it was decided (for a
        request not asked yet, once the question on screen is gone)."""
        request_id = event.request_id
        if request_id in self._answered_here:
            return "other"
        if self._asking is not None and self._asking[0].request_id == request_id:
            await self.withdraw(keep_waiting=True)
            self.say_resolved(event, None)
            return "withdrawn"
        unasked = next((r for r in self._waiting if r.request_id == request_id), None) or self._unasked.pop(request_id, None)
        if unasked is None:
            return "other"
        self._waiting = [r for r in self._waiting if r.request_id != request_id]
        if self._asking is not None:
            self._unasked[request_id] = unasked
            return "hold"
        self.say_resolved(event, unasked)
        return "said"

    def say_resolved(self, event: PermissionResolvedEvent, unasked: PermissionRequestView | None) -> None:
        """Say ``answered elsewhere: allowed`` (naming the tool of a request that was never
        shown), or the view's line for a timeout or a cancellation."""
        if event.reason != "user":
            self.view.show(event)  # "permission denied (timeout)", ...
            return
        what = f"{unasked.tool_name} request " if unasked is not None else ""
        verdict = "allowed" if event.allowed else "denied"
        self.view.print(Text(f"  {what}answered elsewhere: {verdict}", style="green" if event.allowed else "red"))

    async def withdraw(self, keep_waiting: bool = False) -> None:
        """Take the question off the screen (cancelling its prompt); forget the waiting ones
        unless ``keep_waiting``."""
        asking, self._asking = self._asking, None
        if not keep_waiting:
            self._waiting.clear()
        if asking is not None and not asking[1].done():
            asking[1].cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asking[1]

    async def ask(self, request: PermissionRequestView) -> None:
        """Ask about ``request`` and send the answer, blocking (the polling fallback)."""
        if request.request_id in self._asked:
            return
        self._asked.add(request.request_id)
        if not self._stopping():
            await self._ask_and_answer(request)

    def _start(self, request: PermissionRequestView) -> None:
        self._asking = (request, asyncio.create_task(self._question(request)))

    async def _question(self, request: PermissionRequestView) -> None:
        """Task: ask, send the answer, and call ``done`` when done; a cancelled question
        (withdrawn) calls nothing."""
        try:
            await self._ask_and_answer(request)
        except Exception as exc:  # the event loop must hear of the end, or it holds events for good
            self.view.print(Text(f"  Could not ask about {request.tool_name}: {exc}", style="red"))
        self._done(request.request_id)

    async def _ask_and_answer(self, request: PermissionRequestView) -> None:
        self.view.pause()
        try:
            answer = await ask_permission(request, self.ui, self.console, self.cwd)
        except KeyboardInterrupt:
            if not self._stopping():
                self._interrupt()
            return
        finally:
            self.view.start()
        self._answered_here.add(request.request_id)
        try:
            await self.client.respond_permission(
                self.session_id, request.request_id, answer.allowed, apply_suggestions=answer.always, message=answer.message
            )
        except NotFound:
            self.view.print(Text("  That request is no longer pending (it timed out or was cancelled).", style="yellow"))
        except ClientError as exc:
            self.view.print(Text(f"  Could not send the answer: {exc}", style="red"))
        else:
            verdict = "allowed" + (" (always)" if answer.always else "") if answer.allowed else "denied"
            self.view.print(Text(f"  {verdict}", style="green" if answer.allowed else "red"))
