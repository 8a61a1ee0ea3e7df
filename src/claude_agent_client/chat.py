"""The chat's state: which session we talk to, and how to open, switch, close and use it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

from . import render
from .api import AgentClient
from .config import Options
from .errors import ClientError, NotFound
from .inputs import PROMPT, UserInput
from .turn import TurnOutcome, TurnRunner
from .wire import history_content, history_text

__all__ = ["Chat", "CurrentSession", "ServerGone"]

RECENT_HISTORY = 6
"""Transcript messages shown when attaching to or resuming a session."""


class ServerGone(ClientError):
    """The server stopped answering in the middle of a turn."""

    def __init__(self, session_id: str, reason: str) -> None:
        super().__init__(reason)
        self.session_id = session_id
        self.reason = reason


@dataclass(slots=True)
class CurrentSession:
    """The session the chat talks to. ``owned``: this client started or resumed it (and
    closes it on exit); ``live``: False after the server closed it (the next message resumes);
    ``status``: the last status the client saw (``hibernated`` between turns means the
    server stopped its process: the next message wakes it)."""

    session_id: str
    cwd: str
    model: str | None
    mode: str
    owned: bool
    live: bool = True
    status: str = "connected"


class Chat:
    """Client, console, input and the current session.

    Args:
        client: The API client.
        console: Where to draw.
        ui: Where to read.
        options: The command-line options (model, mode, cwd, proxy for new sessions).
    """

    def __init__(self, client: AgentClient, console: Console, ui: UserInput, options: Options) -> None:
        self.client = client
        self.console = console
        self.ui = ui
        self.options = options
        self.session: CurrentSession | None = None
        self.runner: TurnRunner | None = None
        self._server_info: dict[str, Any] | None = None
        self.cancel_current: Callable[[], Any] | None = None
        """Set by the app while a command or message runs: cancels it."""
        self.draft = ""
        """A line typed during the last turn but not entered: the next prompt starts with it."""
        self.after: str | None = None
        """A command typed during the last turn, run before the next prompt."""

    @property
    def session_id(self) -> str:
        assert self.session is not None, "no session yet"
        return self.session.session_id

    # -- opening and closing ------------------------------------------------

    async def start_new(self) -> None:
        """Create a session with the command-line options and make it current."""
        with self.console.status("Starting a session…", spinner="dots"):
            created = await self.client.create_session(
                model=self.options.model, cwd=self.options.cwd, permission_mode=self.options.mode, enable_proxy=self.options.proxy
            )
        self._use(CurrentSession(created.session_id, created.cwd, created.model or self.options.model, created.permission_mode, owned=True))
        self.banner("New session")

    async def open(self, session_id: str) -> None:
        """Attach to ``session_id`` if the server holds it, else resume its transcript.

        A session the server holds answers ``/status``: a live one, or a hibernated one
        (no Claude Code process; the server wakes it on the first message, so attaching
        needs no resume). A closed or unknown one answers 404: its transcript is resumed.

        Raises:
            NotFound: the server holds no such session and has no transcript with that id.
        """
        try:
            status = await self.client.status(session_id)
        except NotFound:
            status = None
        if status is None:
            with self.console.status("Resuming the session…", spinner="dots"):
                created = await self.client.create_session(
                    resume_session_id=session_id, model=self.options.model, cwd=self.options.cwd,
                    permission_mode=self.options.mode, enable_proxy=self.options.proxy,
                )
            self._use(CurrentSession(created.session_id, created.cwd, created.model or self.options.model, created.permission_mode, owned=True))
            self.banner("Resumed session")
            await self.show_history(RECENT_HISTORY)
            return
        current = CurrentSession(
            session_id, status.cwd or "", status.current_model, status.permission_mode or "default", owned=False, status=status.status
        )
        self._use(current)
        if self.options.model:
            await self.set_model(self.options.model)
        if self.options.mode:
            await self.set_mode(self.options.mode)
        if current.status == "hibernated":
            self.banner("Attached to hibernated session")
            self.console.print(Text(f"◌ {render.describe_status('hibernated')}.", style="dim"))
        else:
            self.banner("Attached to live session")
        await self.show_history(RECENT_HISTORY)
        if status.busy:
            self.console.print(Text("A turn is running in this session; following it.", style="dim"))
            await self._run(None)

    async def close(self) -> None:
        """Close the current session if this client owns it (its transcript stays resumable)."""
        session = self.session
        if session is None or not session.owned or not session.live:
            return
        try:
            await self.client.close_session(session.session_id)
        except NotFound:
            pass
        session.live = False

    async def hibernate(self) -> None:
        """Hibernate the current session: the server stops its Claude Code process and keeps
        the session; the next message wakes it.

        Raises:
            Conflict: a turn is running. NotFound: the server closed the session.
        """
        session = self.session
        assert session is not None
        await self.client.hibernate(session.session_id)
        session.status = "hibernated"

    def _use(self, session: CurrentSession) -> None:
        self.session = session
        self._server_info = None

    def banner(self, what: str) -> None:
        session = self.session
        assert session is not None
        self.console.print(Text(f"{what} {session.session_id}", style="bold"))
        self.console.print(Text(
            f"model {session.model or 'default'} · mode {session.mode} · cwd {session.cwd} · server {self.client.base_url}", style="dim"
        ))
        self.console.print(Text("Type a message, or /help for commands. Esc+Enter: new line · Ctrl-C: interrupt · Ctrl-D: quit", style="dim"))

    # -- turns ----------------------------------------------------------------

    async def send(self, message: str) -> None:
        """Run one turn with ``message`` (resuming the session first if the server closed it)."""
        session = self.session
        assert session is not None
        if session.live:
            try:
                session.status = (await self.client.status(session.session_id)).status
            except NotFound:
                session.live = False
                self.console.print(Text("The session was closed on the server; resuming it.", style="yellow"))
        if not session.live:
            await self.open(session.session_id)
        await self._run(message)

    async def _run(self, message: str | None) -> None:
        session = self.session
        assert session is not None
        self.runner = TurnRunner(self.client, session.session_id, self.ui, self.console, session.cwd, prompt=PROMPT)
        try:
            outcome = await self.runner.run(message)
        finally:
            if self.runner.typeahead is not None:
                self.draft = self.runner.typeahead.draft
            self.after = self.runner.after
            self.runner = None
        self._report(outcome)

    def _report(self, outcome: TurnOutcome) -> None:
        session = self.session
        assert session is not None
        if outcome.status in ("done", "interrupted"):
            session.status = "connected"  # awake (woken, if it was hibernated) and idle
        elif outcome.status == "busy":
            self.console.print(Text(f"Busy: {outcome.detail}. Wait for it, or type /interrupt.", style="yellow"))
        elif outcome.status == "failed":
            self.console.print(Text(f"The server refused the message: {outcome.detail}", style="red"))
        elif outcome.status == "closed":
            session.live, session.status = False, "closed"
            self.console.print(Text(
                f"The session was closed on the server ({outcome.detail}). Your next message resumes it.", style="yellow"
            ))
        elif outcome.status == "lost":
            raise ServerGone(session.session_id, outcome.detail or "connection lost")

    def on_sigint(self) -> None:
        """Ctrl-C outside prompt-toolkit: interrupt the running turn, else abort a pending
        plain-input read, else cancel the request in progress (``cancel_current``)."""
        if self.runner is not None:
            self.runner.interrupt()
        elif not self.ui.cancel() and self.cancel_current is not None:
            self.cancel_current()

    # -- settings -------------------------------------------------------------

    @contextlib.contextmanager
    def _waking(self) -> Iterator[None]:
        """Around a call that wakes a hibernated session: a spinner while it starts again."""
        session = self.session
        if session is None or session.status != "hibernated":
            yield
            return
        with self.console.status("Waking the hibernated session…", spinner="dots"):
            yield
        session.status = "connected"

    async def set_model(self, model: str | None) -> None:
        with self._waking():
            await self.client.set_model(self.session_id, model)
        assert self.session is not None
        self.session.model = model

    async def set_mode(self, mode: str) -> None:
        with self._waking():
            await self.client.set_permission_mode(self.session_id, mode)
        assert self.session is not None
        self.session.mode = mode

    async def server_info(self) -> dict[str, Any]:
        """The CLI's init info for the current session (cached per session; wakes a hibernated one)."""
        if self._server_info is None:
            with self._waking():
                self._server_info = await self.client.server_info(self.session_id)
        return self._server_info

    def cached_commands(self) -> list[str]:
        """Slash-command names the CLI reported (empty until :meth:`server_info` ran)."""
        info = self._server_info or {}
        return [str(c.get("name")) for c in info.get("commands") or [] if isinstance(c, dict) and c.get("name")]

    def cached_models(self) -> list[str]:
        info = self._server_info or {}
        return [str(m.get("value")) for m in info.get("models") or [] if isinstance(m, dict) and m.get("value")]

    async def show_history(self, last: int | None = None) -> None:
        """Print the transcript (the ``last`` messages only, when given)."""
        messages = await self.client.history(self.session_id)
        visible = [m for m in messages if history_text(m).strip() or isinstance(history_content(m)[1], list)]
        if last is not None:
            visible = visible[-last:]
        if visible:
            self.console.print(render.history(visible, self.session.cwd if self.session else None))
            self.console.print(Text("─" * 3, style="dim"))

    def toolbar_text(self) -> str:
        """The bottom toolbar: short session id, model, permission mode, cwd, and the
        session's status when it is not simply ready (``hibernated — the next message wakes it``)."""
        session = self.session
        if session is None:
            return ""
        text = f" {session.session_id[:8]} · {session.model or 'default model'} · {session.mode} · {session.cwd} "
        if self.runner is not None:
            text += "· turn running: Enter queues a message · /steer TEXT joins it · Ctrl-C interrupts "
        elif session.status != "connected":
            text += f"· {render.describe_status(session.status)} "
        return text
