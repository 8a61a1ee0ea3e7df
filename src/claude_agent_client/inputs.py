"""Reading what the user types: prompt-toolkit on a terminal, plain lines otherwise.

Both implementations share one interface (:class:`UserInput`):

* ``read_message(prompt)`` — the chat prompt; returns the text,
* ``ask(question)`` — a short answer (permissions, confirmations),

raising :class:`EOFError` on Ctrl-D / end of input and :class:`KeyboardInterrupt`
on Ctrl-C (prompt-toolkit reads Ctrl-C as a key; for plain input the app's SIGINT
handler calls :meth:`PlainInput.cancel`).

:class:`TerminalInput` can also read while a turn runs (:mod:`.typeahead`): its chat
prompt can then be put aside (:meth:`TerminalInput.suspend`, the prompt raises
:class:`Suspended` with the text typed so far) while a permission question is asked.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import AnyFormattedText
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

__all__ = ["PROMPT", "PlainInput", "Suspended", "TerminalInput", "UserInput", "CommandCompleter"]


PROMPT = "› "
"""The chat prompt."""


class Suspended(Exception):
    """The chat prompt was put aside (:meth:`TerminalInput.suspend`); ``text``: what was typed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class UserInput(Protocol):
    async def read_message(self, prompt: str, default: str = "") -> str: ...
    async def ask(self, question: str) -> str: ...
    def cancel(self) -> bool: ...


class CommandCompleter(Completer):
    """Completes command names at the start of the line and their arguments after them.

    Args:
        names: Command names (completed with a leading ``/``).
        arguments: ``name -> callable returning the candidate arguments``.
    """

    def __init__(self, names: Iterable[str], arguments: dict[str, Callable[[], Iterable[str]]]) -> None:
        self.names = sorted(names)
        self.arguments = arguments

    def get_completions(self, document: Document, complete_event: object) -> Iterable[Completion]:
        text = document.text_before_cursor
        if "\n" in text:
            return
        head, space, rest = text.partition(" ")
        if not space:
            if not text.startswith("/"):
                return
            for name in self.names:
                if ("/" + name).startswith(text):
                    yield Completion("/" + name, start_position=-len(text))
            return
        source = self.arguments.get(head.lstrip("/"))
        if source is None or " " in rest:
            return
        for candidate in source():
            if candidate.startswith(rest):
                yield Completion(candidate, start_position=-len(rest))


def _bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        """Esc+Enter / Alt+Enter: a new line instead of sending."""
        event.current_buffer.insert_text("\n")

    @bindings.add("c-c", eager=True)
    def _clear_or_quit(event: KeyPressEvent) -> None:
        """Ctrl-C clears a non-empty line; on an empty line it raises KeyboardInterrupt."""
        if event.current_buffer.text:
            event.current_buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    return bindings


class TerminalInput:
    """prompt-toolkit input with persistent history, multi-line entry and completion.

    Args:
        history_file: Where the chat history is kept between runs.
        completer: Command completion for the chat prompt.
        toolbar: Returns the bottom toolbar's text (session, model, mode).
    """

    def __init__(self, history_file: Path, completer: Completer | None = None, toolbar: Callable[[], AnyFormattedText] | None = None) -> None:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        self._chat: PromptSession[str] = PromptSession(
            history=FileHistory(str(history_file)),
            completer=completer,
            complete_while_typing=True,
            key_bindings=_bindings(),
            bottom_toolbar=toolbar,
            prompt_continuation=lambda width, line, soft: "… ".rjust(width),
        )
        self._answers: PromptSession[str] = PromptSession()

    async def read_message(self, prompt: str, default: str = "") -> str:
        """The chat prompt (``default``: text already in the line).

        Raises:
            Suspended: :meth:`suspend` put it aside.
        """
        return await self._chat.prompt_async([("bold ansicyan", prompt)], handle_sigint=False, default=default)

    def suspend(self) -> bool:
        """Put the running chat prompt aside (its ``read_message`` raises :class:`Suspended`
        with the text typed so far). Returns whether one was running."""
        app = self._chat.app
        if not app.is_running or app.future is None or app.future.done():
            return False
        app.exit(exception=Suspended(self._chat.default_buffer.text))
        return True

    async def ask(self, question: str) -> str:
        return await self._answers.prompt_async([("bold", question)], handle_sigint=False)

    def cancel(self) -> bool:
        return False  # Ctrl-C is a key for prompt-toolkit; nothing to cancel from outside


class PlainInput:
    """Line input from a non-terminal stdin (pipes, files, CI). Lines are echoed after the
    prompt so a transcript of the session reads naturally."""

    def __init__(self, stream: TextIO | None = None, echo: bool = True) -> None:
        self._stream = stream or sys.stdin
        self._echo = echo
        self._lines: asyncio.Queue[str | None] | None = None
        self._waiter: asyncio.Future[str | None] | None = None
        self._user_cancelled = False

    def _start(self) -> asyncio.Queue[str | None]:
        if self._lines is None:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[str | None] = asyncio.Queue()
            self._lines = queue

            def pump() -> None:
                for line in self._stream:
                    loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
                loop.call_soon_threadsafe(queue.put_nowait, None)

            threading.Thread(target=pump, name="stdin-reader", daemon=True).start()
        return self._lines

    async def _read(self, prompt: str) -> str:
        queue = self._start()
        sys.stdout.write(prompt)
        sys.stdout.flush()
        self._waiter = asyncio.ensure_future(queue.get())
        self._user_cancelled = False
        try:
            line = await self._waiter
        except asyncio.CancelledError:
            if not self._user_cancelled:
                raise
            sys.stdout.write("^C\n")
            raise KeyboardInterrupt from None
        finally:
            self._waiter = None
        if line is None:
            queue.put_nowait(None)  # stay at end of input
            sys.stdout.write("\n")
            raise EOFError
        sys.stdout.write((line if self._echo else "") + "\n")
        sys.stdout.flush()
        return line

    async def read_message(self, prompt: str, default: str = "") -> str:
        return await self._read(prompt)

    async def ask(self, question: str) -> str:
        return await self._read(question)

    def cancel(self) -> bool:
        """Abort a pending read (it raises KeyboardInterrupt). Returns whether one was pending."""
        if self._waiter is not None and not self._waiter.done():
            self._user_cancelled = True
            self._waiter.cancel()
            return True
        return False
