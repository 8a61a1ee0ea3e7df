"""Typing while a turn runs (terminal only): the chat prompt stays at the bottom of the screen
and the turn's output is printed above it (prompt-toolkit's ``patch_stdout``).

A line typed then is handed to ``on_line``; the turn runner sends it with ``mode: "queue"``
(it runs after the running turn) or, as ``/steer TEXT``, with ``mode: "steer"`` (it joins
the running turn). Ctrl-C on an empty line calls ``on_interrupt``. While a permission
question is asked the prompt is put aside and comes back afterwards with what was typed
(:class:`AsideInput`, the input the questions use).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from prompt_toolkit.patch_stdout import patch_stdout

from .inputs import Suspended, TerminalInput

__all__ = ["AsideInput", "TypeAhead"]

POLL = 0.02
"""Seconds between checks while the prompt is being put aside."""


class TypeAhead:
    """The chat prompt during a turn.

    Args:
        ui: The terminal input.
        prompt: The prompt text.
        on_line: Called with each non-empty line typed.
        on_interrupt: Called on Ctrl-C (on an empty line).
    """

    def __init__(self, ui: TerminalInput, prompt: str, on_line: Callable[[str], None], on_interrupt: Callable[[], None]) -> None:
        self._ui = ui
        self._prompt = prompt
        self._on_line = on_line
        self._on_interrupt = on_interrupt
        self._draft = ""
        self._open = asyncio.Event()
        self._open.set()
        self._reading = False
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Show the prompt for the duration of the block; output printed meanwhile goes above it."""
        with patch_stdout(raw=True):
            self._task = asyncio.create_task(self._loop())
            try:
                yield
            finally:
                await self.aside()
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def aside(self) -> None:
        """Take the prompt off the screen (until :meth:`back`); returns once it is gone."""
        self._open.clear()
        while self._reading:
            self._ui.suspend()
            await asyncio.sleep(POLL)

    def back(self) -> None:
        """Show the prompt again, with what had been typed."""
        self._open.set()

    async def _loop(self) -> None:
        while True:
            await self._open.wait()
            self._reading = True
            try:
                line = await self._ui.read_message(self._prompt, default=self._draft)
            except Suspended as aside:
                self._draft = aside.text
                continue
            except KeyboardInterrupt:
                self._draft = ""
                self._on_interrupt()
                continue
            except EOFError:
                continue  # Ctrl-D during a turn: nothing to quit from yet
            finally:
                self._reading = False
            self._draft = ""
            if line.strip():
                self._on_line(line.strip())


class AsideInput:
    """The input permission questions use during a turn: it puts the chat prompt aside
    while it asks. Otherwise as the terminal input it wraps."""

    def __init__(self, ui: TerminalInput, typeahead: TypeAhead) -> None:
        self._ui = ui
        self._typeahead = typeahead

    async def read_message(self, prompt: str, default: str = "") -> str:
        return await self._ui.read_message(prompt, default)

    async def ask(self, question: str) -> str:
        await self._typeahead.aside()
        try:
            return await self._ui.ask(question)
        finally:
            self._typeahead.back()

    def cancel(self) -> bool:
        return self._ui.cancel()
