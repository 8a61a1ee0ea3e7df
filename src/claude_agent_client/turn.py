"""Running one turn: subscribe to the session's events, send the message, show the
events, answer permission requests, handle Ctrl-C and a dropped connection.

The subscription is opened *before* the message is posted, so every event of the
turn arrives on it; if the connection drops, :class:`EventFollower` reconnects
with ``Last-Event-ID`` and no event is shown twice or lost.

A permission question (:mod:`.questions`) runs in a task of its own while events keep
being read: when the request is resolved elsewhere (the dashboard, REST, a timeout) the
question is withdrawn and the client says so ("answered elsewhere: allowed"); other events
that arrive while a question is on screen are shown after it, in order.

On a terminal the user may type while the turn runs (:mod:`.typeahead`): a line is queued
after the turn, ``/steer TEXT`` joins it (:mod:`.followups`); the runner then follows the
queued turns too, and returns once the last of them has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Literal

from claude_agent_protocol import ErrorEvent, ResultEvent, TurnReply
from rich.console import Console
from rich.text import Text

from .api import AgentClient
from .errors import APIError, ClientError, Conflict, NotFound, ServerUnavailable
from .followups import Followups, Posted, parse_line
from .inputs import TerminalInput, UserInput
from .live import TurnView
from .questions import Questions
from .stream import EventFollower
from .typeahead import AsideInput, TypeAhead
from .wire import TURN_END, StatusSnapshot, StreamItem

__all__ = ["TurnOutcome", "TurnRunner"]

INTERRUPT_GRACE = 15.0
"""Seconds to wait for the server to end a turn after an interrupt."""

POLL_INTERVAL = 0.5
"""Seconds between ``/status`` polls when the server has no event stream."""

OutcomeStatus = Literal["done", "interrupted", "busy", "closed", "lost", "failed"]


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended.

    ``status``: ``done`` (result or error event), ``interrupted``, ``busy`` (409:
    another turn runs), ``closed`` (the session was closed for good; hibernating
    is not closing: a hibernated session wakes for the message), ``lost`` (the
    server cannot be reached), ``failed`` (the server refused the message, e.g.
    503 when every live session is busy).
    """

    status: OutcomeStatus
    result: ResultEvent | ErrorEvent | TurnReply | None = None
    """The event that ended the turn (the blocking reply on a server without the event stream)."""
    detail: str | None = None


class TurnRunner:
    """Drives one turn of one session on the terminal.

    Args:
        client: The API client.
        session_id: The live session.
        ui: Where permission answers are read.
        console: Where everything is drawn.
        cwd: The session's working directory (for paths and warnings).
        prompt: The chat prompt; given with a terminal input, the user may type while the turn
            runs (queue, steer).
    """

    def __init__(
        self, client: AgentClient, session_id: str, ui: UserInput, console: Console, cwd: str | None = None, prompt: str | None = None
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.ui = ui
        self.console = console
        self.cwd = cwd
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.view = TurnView(console, cwd)
        self.typeahead: TypeAhead | None = None
        self.after: str | None = None
        """The last command typed during the turn (``exit``, ``/model x``): it runs once the turn has ended."""
        if prompt is not None and isinstance(ui, TerminalInput):
            self.typeahead = TypeAhead(ui, prompt, self.view, lambda line: self._queue.put_nowait(("typed", line)), self.interrupt)
            aside = AsideInput(ui)
            aside.typeahead, ui = self.typeahead, aside
        self.followups = Followups(client, session_id, self.view, lambda posted: self._queue.put_nowait(("followup", posted)))
        self._between: ResultEvent | ErrorEvent | None = None
        """The end of the last turn, while queued messages of ours wait for theirs."""
        self._interrupting = False
        self.questions = Questions(
            client, session_id, ui, console, self.view, cwd,
            done=lambda request_id: self._queue.put_nowait(("asked", request_id)),
            stopping=lambda: self._interrupting, interrupt=self.interrupt,
        )
        self._held: list[StreamItem] = []
        """Events that arrived while a question was on screen, shown after it."""
        self._message: str | None = None
        self._turn_seen = False
        self._connected = False
        self._post_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._deadline: float | None = None
        """Loop time by which the server must end an interrupted turn."""
        self._backlog: list[StreamItem] | None = None
        """While following a running turn: replayed events not shown yet."""
        self._backlog_end = 0
        """The id of the last replayed event (the snapshot's ``last_event_id``)."""

    def interrupt(self) -> None:
        """Ctrl-C: ask the server to stop the turn; a second call stops waiting for it."""
        self._queue.put_nowait(("abandon" if self._interrupting else "interrupt", None))
        self._interrupting = True
        self.ui.cancel()

    async def run(self, message: str | None) -> TurnOutcome:
        """Send ``message`` and show the turn until it ends; ``None`` follows a turn that is
        already running (attaching to a busy session)."""
        self._message = message
        self._turn_seen = message is None
        if message is None:
            self.followups.open()  # following a running turn: follow-ups go at once
        # Following a running turn: replay the buffer to show the turn from its start.
        follower = EventFollower(self.client, self.session_id, after=0 if message is None else None)
        pump = asyncio.create_task(self._pump(follower))
        loop = asyncio.get_running_loop()
        self.view.start()
        try:
            async with self.typeahead.running() if self.typeahead is not None else contextlib.nullcontext():
                while True:
                    timeout = None if self._deadline is None else max(self._deadline - loop.time(), 0)
                    try:
                        kind, value = await asyncio.wait_for(self._queue.get(), timeout)
                    except TimeoutError:
                        self.view.print(Text("The server did not confirm the interrupt; back to the prompt.", style="yellow"))
                        return TurnOutcome("interrupted")
                    handler = getattr(self, f"_on_{kind}")
                    outcome: TurnOutcome | None = await handler(value)
                    if outcome is not None:
                        return outcome
        finally:
            while not self._queue.empty():  # a line entered as the turn ended: it runs as typed at the prompt
                kind, value = self._queue.get_nowait()
                if kind == "typed" and str(value).strip():
                    self.after = str(value).strip()
            await self.questions.withdraw()
            self.view.stop()
            await self.followups.close()
            pump.cancel()
            post = self._post_task
            if post is not None and not post.done():
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(post), 2)
                post.cancel()
            for task in (pump, post, *self._tasks):
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    # -- queue items ------------------------------------------------------------

    async def _on_event(self, event: StreamItem) -> TurnOutcome | None:
        if isinstance(event, StatusSnapshot):
            return await self._on_snapshot(event)
        if self._backlog is not None:
            return await self._on_backlog(event)
        if event.type == "permission_request":
            self.questions.enqueue(event)
            return None
        if event.type == "permission_resolved":
            resolution = await self.questions.resolved(event)
            if resolution == "withdrawn":
                return await self._after_question()
            if resolution == "hold":
                self._held.append(event)  # said after the question on screen
            if resolution != "other":
                return None
        ends_turn = event.type in TURN_END
        if self.questions.on_screen and not ends_turn:
            self._held.append(event)  # shown once the question is off the screen
            return None
        if event.type == "turn_started":
            self._turn_seen, self._between = True, None
            self.followups.started(event.message)
            self.followups.open()
        if ends_turn:
            await self.questions.withdraw()
            for held in self._drain_held():
                await self._on_event(held)
        self.view.show(event)
        if isinstance(event, ResultEvent | ErrorEvent) and self._turn_seen:
            if self.followups.waiting:  # a queued message of ours runs next: follow it too
                self._turn_seen, self._between = False, event
                self._interrupting, self._deadline = False, None
                return None
            return TurnOutcome("interrupted" if self._interrupting else "done", event)
        return None

    async def _on_typed(self, line: str) -> TurnOutcome | None:
        """A line typed during the turn: queue it, steer with it, or interrupt."""
        wanted = parse_line(line)
        if wanted == "interrupt":
            self.interrupt()
        elif wanted is None:
            self.after = line.strip()
            self.view.print(Text(f"⧗ {self.after} runs when the turn has ended", style="cyan"))
        else:
            self.followups.send(*wanted)
        return None

    async def _on_followup(self, posted: Posted) -> TurnOutcome | None:
        self.followups.ended(posted)
        if self._between is not None and not self.followups.waiting:
            return TurnOutcome("done", self._between)  # the turn ended and nothing of ours waits any more
        return None

    async def _on_snapshot(self, snapshot: StatusSnapshot) -> TurnOutcome | None:
        if self._connected:
            self.view.print(Text("(reconnected to the event stream)", style="dim"))
            return None
        self._connected = True
        if self._message is None and not snapshot.busy:
            return TurnOutcome("done")  # the turn we came to follow has already ended
        if self._message is None:
            self._backlog, self._backlog_end = [], snapshot.last_event_id
            return None
        if not self._interrupting:
            self._post_task = asyncio.create_task(self._post(self._message))
        for pending in snapshot.pending_permissions:
            self.questions.enqueue(pending)
        return None

    async def _on_backlog(self, event: StreamItem) -> TurnOutcome | None:
        """Collect replayed events up to the snapshot's last id, then show the running turn
        from its ``turn_started`` on (asking only the permission requests still pending)."""
        assert self._backlog is not None
        if not isinstance(event, StatusSnapshot) and event.id < self._backlog_end:
            self._backlog.append(event)
            return None
        backlog, self._backlog = [*self._backlog, event], None
        starts = [i for i, e in enumerate(backlog) if e.type == "turn_started"]
        resolved = {e.request_id for e in backlog if e.type == "permission_resolved"}
        for item in backlog[starts[-1] if starts else 0:]:
            if item.type == "permission_request" and item.request_id in resolved:
                continue
            outcome = await self._on_event(item)
            if outcome is not None:
                return outcome
        return None

    async def _on_posted(self, value: TurnReply | ClientError) -> TurnOutcome | None:
        if isinstance(value, Conflict):
            return TurnOutcome("busy", detail=value.message)
        if isinstance(value, NotFound):
            return TurnOutcome("closed", detail=value.message)
        if isinstance(value, APIError):
            return TurnOutcome("failed", detail=value.message)
        return None  # a reply (the events show it) or ServerUnavailable (the event stream decides)

    async def _on_stream_end(self, error: ClientError | None) -> TurnOutcome:
        if isinstance(error, ServerUnavailable):
            return TurnOutcome("lost", detail=error.reason)
        if isinstance(error, NotFound) and not self._connected and self._message is not None and await self._session_live():
            return await self._poll(self._message)  # a server without the event stream
        if isinstance(error, NotFound) or error is None:
            if not await self._server_alive():
                return TurnOutcome("lost", detail="the server shut down")
            return TurnOutcome("closed", detail=error.message if error else "the session closed")
        return TurnOutcome("failed", detail=str(error))

    async def _on_interrupt(self, _: None) -> TurnOutcome | None:
        self.view.set_label("Interrupting")
        self.view.print(Text("⏹ Interrupting…", style="yellow"))
        if self._message is not None and self._post_task is None:
            return TurnOutcome("interrupted")  # nothing was sent yet
        self._tasks.append(asyncio.create_task(self._send_interrupt()))
        self._deadline = asyncio.get_running_loop().time() + INTERRUPT_GRACE
        return None

    async def _on_abandon(self, _: None) -> TurnOutcome:
        return TurnOutcome("interrupted")

    async def _on_asked(self, request_id: str) -> TurnOutcome | None:
        """The question about ``request_id`` ended (answered, or Ctrl-C): show what was held
        back meanwhile, then ask the next waiting request."""
        if not self.questions.finished(request_id):
            return None
        return await self._after_question()

    async def _after_question(self) -> TurnOutcome | None:
        """Show the events held back, in order, then ask the next waiting request."""
        for event in self._drain_held():
            outcome = await self._on_event(event)
            if outcome is not None:
                return outcome
        self.questions.ask_next()
        return None

    def _drain_held(self) -> list[StreamItem]:
        held, self._held = self._held, []
        return held

    # -- helpers ----------------------------------------------------------------

    async def _pump(self, follower: EventFollower) -> None:
        try:
            async for event in follower:
                self._queue.put_nowait(("event", event))
        except ClientError as exc:
            self._queue.put_nowait(("stream_end", exc))
        else:
            self._queue.put_nowait(("stream_end", None))

    async def _post(self, message: str) -> None:
        try:
            reply = await self.client.send_message(self.session_id, message)
        except ClientError as exc:
            self._queue.put_nowait(("posted", exc))
        else:
            self._queue.put_nowait(("posted", reply))

    async def _poll(self, message: str) -> TurnOutcome:
        """Fallback without SSE: post the message, poll ``/status`` for permission requests
        every :data:`POLL_INTERVAL` seconds, then show the blocking reply."""
        self.view.print(Text("(no event stream on this server: polling; the reply appears when the turn ends)", style="dim"))
        post = asyncio.create_task(self._post(message))
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        try:
            while True:
                timeout = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL, max(deadline - loop.time(), 0))
                try:
                    kind, value = await asyncio.wait_for(self._queue.get(), timeout)
                except TimeoutError:
                    if deadline is not None and loop.time() >= deadline:
                        return TurnOutcome("interrupted")
                    status = await self.client.status(self.session_id)
                    for pending in status.pending_permissions:
                        await self.questions.ask(pending)
                    continue
                if kind == "posted":
                    if isinstance(value, Conflict):
                        return TurnOutcome("busy", detail=value.message)
                    if isinstance(value, ServerUnavailable):
                        return TurnOutcome("lost", detail=value.reason)
                    if isinstance(value, ClientError):
                        return TurnOutcome("failed", detail=str(value))
                    self.view.show_reply(value)
                    return TurnOutcome("interrupted" if self._interrupting else "done", value)
                if kind == "interrupt":
                    self.view.print(Text("⏹ Interrupting…", style="yellow"))
                    await self._send_interrupt()
                    deadline = loop.time() + INTERRUPT_GRACE
                elif kind == "abandon":
                    return TurnOutcome("interrupted")
        except ServerUnavailable as exc:
            return TurnOutcome("lost", detail=exc.reason)
        finally:
            if not post.done():
                post.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await post

    async def _session_live(self) -> bool:
        try:
            await self.client.status(self.session_id)
        except ClientError:
            return False
        return True

    async def _server_alive(self) -> bool:
        try:
            await self.client.health()
        except ServerUnavailable:
            return False
        except ClientError:
            return True
        return True

    async def _send_interrupt(self) -> None:
        with contextlib.suppress(ClientError):
            await self.client.interrupt(self.session_id)
