"""Typing while a turn runs (terminal only).

The turn is shown as always (the live region streams the reply). Meanwhile the terminal is
in cbreak mode (keys arrive one by one, Ctrl-C still interrupts) and the first key pressed
opens the chat prompt at the bottom of the screen, holding that key: the live region stops
and what the turn prints meanwhile goes above the prompt (prompt-toolkit's
``patch_stdout``). A line entered there is handed to ``on_line`` (the turn runner queues it,
or steers with ``/steer TEXT``; :mod:`.followups`) and the live region comes back. Ctrl-C
in the prompt calls ``on_interrupt``. A permission question puts the prompt aside
(:class:`AsideInput`) and it comes back afterwards with what was typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
import tty
from collections.abc import AsyncIterator, Callable

from prompt_toolkit.patch_stdout import patch_stdout

from .inputs import Suspended, TerminalInput
from .live import TurnView

__all__ = ["AsideInput", "TypeAhead"]

POLL = 0.02
"""Seconds between checks while the prompt is being put aside."""


class TypeAhead:
    """Keys typed during a turn, and the chat prompt they open.

    Args:
        ui: The terminal input.
        prompt: The prompt text.
        view: The turn's view (its live region stops while the prompt is open).
        on_line: Called with each non-empty line entered.
        on_interrupt: Called on Ctrl-C in the prompt (on an empty line).
    """

    def __init__(self, ui: TerminalInput, prompt: str, view: TurnView, on_line: Callable[[str], None], on_interrupt: Callable[[], None]) -> None:
        self._ui = ui
        self._prompt = prompt
        self._view = view
        self._on_line = on_line
        self._on_interrupt = on_interrupt
        self._draft = ""
        self._open = False
        self._listening = False
        self._composing: asyncio.Task[None] | None = None
        self._fd = -1

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Watch for keys for the duration of the block (the terminal's mode is restored after)."""
        try:
            self._fd = sys.stdin.fileno()
            saved = termios.tcgetattr(self._fd)
        except (OSError, ValueError, termios.error):
            yield  # not a terminal after all: no typing ahead
            return
        tty.setcbreak(self._fd, termios.TCSANOW)  # not the default TCSAFLUSH: keys typed as the turn began stay
        self._open = True
        self._listen()
        try:
            yield
        finally:
            await self.aside()
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, saved)

    @property
    def draft(self) -> str:
        """What was typed but not entered when the prompt was last put aside."""
        return self._draft

    async def aside(self) -> None:
        """Stop watching keys and take the prompt off the screen (until :meth:`back`)."""
        self._open = False
        self._unlisten()
        while self._composing is not None and not self._composing.done():
            self._ui.suspend()
            await asyncio.sleep(POLL)

    def back(self) -> None:
        """Watch keys again; a line put aside half-typed opens the prompt again at once."""
        self._open = True
        if self._draft:
            self._compose(self._draft)
        else:
            self._listen()

    # -- internals ---------------------------------------------------------------

    def _listen(self) -> None:
        if not self._listening and self._fd >= 0:
            asyncio.get_running_loop().add_reader(self._fd, self._on_key)
            self._listening = True

    def _unlisten(self) -> None:
        if self._listening:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._listening = False

    def _on_key(self) -> None:
        try:
            typed = os.read(self._fd, 1024).decode(errors="ignore")
        except OSError:
            return
        draft = "".join(c for c in typed.split("\r")[0].split("\n")[0] if c.isprintable())
        if not draft:
            return  # a lone control key or Enter: nothing to say yet
        if "\r" in typed or "\n" in typed:
            self._on_line(draft)  # typed ahead so fast that the line is complete already
            return
        self._unlisten()
        self._compose(draft)

    def _compose(self, draft: str) -> None:
        self._draft = ""
        self._composing = asyncio.create_task(self._read(draft))

    async def _read(self, draft: str) -> None:
        self._view.pause()
        try:
            with patch_stdout(raw=True):
                line = await self._ui.read_message(self._prompt, default=draft)
        except Suspended as aside:
            self._draft = aside.text  # the prompt comes back with it (:meth:`back`)
            return
        except KeyboardInterrupt:
            self._on_interrupt()
        except EOFError:
            pass
        else:
            if line.strip():
                self._on_line(line.strip())
        if self._open:
            self._view.start()
            self._listen()


class AsideInput:
    """The input permission questions use during a turn: it puts the typing aside while it
    asks. Otherwise as the terminal input it wraps."""

    def __init__(self, ui: TerminalInput) -> None:
        self._ui = ui
        self.typeahead: TypeAhead | None = None

    async def read_message(self, prompt: str, default: str = "") -> str:
        return await self._ui.read_message(prompt, default)

    async def ask(self, question: str) -> str:
        if self.typeahead is None:
            return await self._ui.ask(question)
        await self.typeahead.aside()
        try:
            return await self._ui.ask(question)
        finally:
            self.typeahead.back()

    def cancel(self) -> bool:
        return self._ui.cancel()
