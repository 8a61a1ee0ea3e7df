"""The command table: ``exit``, ``clear``, ``model``, ... typed with or without a leading ``/``.

Without the slash a line is a command only when it has the command's exact shape
(``clear`` alone, ``model`` plus one word, ``mode`` plus a known mode), so prose
such as "clear the cache" still goes to the model.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.table import Table
from rich.text import Text

from . import render
from .chat import Chat
from .config import MODES
from .errors import Conflict, NotFound

__all__ = ["COMMANDS", "Command", "ExitRequested", "UnknownCommand", "find", "parse"]

Arity = Literal["none", "optional_word", "text"]
"""``text``: the rest of the line, and only with the leading ``/``."""
_WORD = re.compile(r"[A-Za-z][\w:-]*")


class ExitRequested(Exception):
    """``exit`` / ``quit``: leave the client."""


class UnknownCommand(Exception):
    """A ``/word`` that names no command."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True, slots=True)
class Command:
    """One command: names, argument shape, help text and handler ``run(chat, argument)``."""

    name: str
    summary: str
    run: Callable[[Chat, str], Awaitable[None]]
    arity: Arity = "none"
    usage: str = ""
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    """When set, a bare (slash-less) use needs one of these as its argument."""


# -- handlers -------------------------------------------------------------------


async def _exit(chat: Chat, arg: str) -> None:
    raise ExitRequested


async def _clear(chat: Chat, arg: str) -> None:
    await chat.close()
    await chat.start_new()


async def _sessions(chat: Chat, arg: str) -> None:
    from .picker import choose_session, recent_sessions

    current = chat.session
    choices = await recent_sessions(chat.client, chat.options.cwd, limit=15)
    choice = await choose_session(choices, chat.ui, chat.console)
    if choice is not None and current is not None and choice.session_id == current.session_id:
        chat.console.print(Text("That is the current session.", style="dim"))
        return
    await chat.close()
    if choice is None:
        await chat.start_new()
    else:
        await chat.open(choice.session_id)


async def _model(chat: Chat, arg: str) -> None:
    assert chat.session is not None
    if not arg:
        chat.console.print(Text(f"Model: {chat.session.model or 'default'}  (change with /model NAME, /model default)"))
        return
    model = None if arg == "default" else arg
    await chat.set_model(model)
    chat.console.print(Text(f"Model set to {model or 'the default'}.", style="green"))


async def _mode(chat: Chat, arg: str) -> None:
    assert chat.session is not None
    if not arg:
        chat.console.print(Text(f"Permission mode: {chat.session.mode}  (one of {', '.join(MODES[:4])})"))
        return
    if arg not in MODES:
        chat.console.print(Text(f"Unknown mode {arg!r}; use one of {', '.join(MODES)}.", style="red"))
        return
    await chat.set_mode(arg)
    chat.console.print(Text(f"Permission mode set to {arg}.", style="green"))


async def _interrupt(chat: Chat, arg: str) -> None:
    was_running = await chat.client.interrupt(chat.session_id)
    chat.console.print("Interrupted the running turn." if was_running else "Nothing was running.")


async def _hibernate(chat: Chat, arg: str) -> None:
    assert chat.session is not None
    try:
        await chat.hibernate()
    except Conflict:
        chat.console.print(Text("A turn is running; wait for it to end (or /interrupt it), then hibernate.", style="yellow"))
        return
    except NotFound:
        chat.session.live, chat.session.status = False, "closed"
        chat.console.print(Text("The session is closed on the server; the next message resumes it.", style="yellow"))
        return
    chat.console.print(Text("Session hibernated: its Claude Code process stopped. The next message wakes it.", style="green"))


async def _info(chat: Chat, arg: str) -> None:
    info = await chat.server_info()
    session = chat.session
    assert session is not None
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("session", session.session_id)
    table.add_row("status", render.describe_status(session.status))
    table.add_row("server", chat.client.base_url)
    table.add_row("model", session.model or "default")
    table.add_row("mode", session.mode)
    table.add_row("cwd", session.cwd)
    if info.get("claude_code_version"):
        table.add_row("Claude Code", str(info["claude_code_version"]))
    style = info.get("output_style")
    table.add_row("output style", str(style.get("name", style) if isinstance(style, dict) else style or "default"))
    models = chat.cached_models()
    if models:
        table.add_row("models", ", ".join(models))
    names = chat.cached_commands()
    table.add_row("commands", (", ".join("/" + n for n in names[:40]) + (" …" if len(names) > 40 else "")) or "none")
    chat.console.print(table)


async def _fork(chat: Chat, arg: str) -> None:
    session = chat.session
    assert session is not None
    try:
        forked = await chat.client.fork(session.session_id, arg or None)
    except NotFound as exc:
        chat.console.print(Text(f"Cannot fork: {exc}", style="red"))
        return
    except Conflict:
        chat.console.print(Text("Nothing to fork yet: the first turn is still running.", style="yellow"))
        return
    await chat.open(forked.session_id)
    chat.console.print(Text(f"Forked from {session.session_id}; this is the fork. Resume the original with --session {session.session_id}.", style="green"))


async def _steer(chat: Chat, arg: str) -> None:
    """Outside a turn there is nothing to steer: the text is sent as a message (during a turn
    the type-ahead prompt sends it with ``mode: "steer"``, :mod:`.followups`)."""
    if not arg:
        chat.console.print(Text("Usage: /steer TEXT (while a turn runs: TEXT joins it; otherwise it is sent as a message)", style="yellow"))
        return
    await chat.send(arg)


async def _history(chat: Chat, arg: str) -> None:
    await chat.show_history()


async def _help(chat: Chat, arg: str) -> None:
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for command in COMMANDS:
        names = " ".join(f"/{n}" for n in (command.name, *command.aliases))
        table.add_row(f"{names} {command.usage}".strip(), command.summary)
    chat.console.print(table)
    chat.console.print(Text(
        "Commands work with or without the leading /. Enter sends; Esc+Enter (or Alt+Enter) adds a line; "
        "Ctrl-C interrupts a reply; Ctrl-D quits. While a reply runs you can type on: a message is queued "
        "(it runs when the turn ends), /steer TEXT joins the running turn, another command runs once the turn "
        "has ended. Permission prompts: y = allow, "
        "n or Enter = deny, a = always allow, d = details.", style="dim"
    ))


COMMANDS: tuple[Command, ...] = (
    Command("help", "show this help", _help),
    Command("exit", "leave (the session is saved; resume it with --session ID)", _exit, aliases=("quit",)),
    Command("clear", "start a new session", _clear),
    Command("sessions", "pick another session (recent ones, or new)", _sessions),
    Command("model", "show the model, or switch it ('default' resets)", _model, "optional_word", "[NAME|default]"),
    Command("mode", "show or set the permission mode", _mode, "optional_word", f"[{'|'.join(MODES[:4])}]", choices=MODES),
    Command("interrupt", "stop the running turn", _interrupt),
    Command("steer", "while a turn runs: send TEXT into it (a plain message typed then is queued)", _steer, "text", "TEXT"),
    Command("hibernate", "stop the session's Claude Code process; the next message wakes it", _hibernate),
    Command("info", "server info: model, commands, output style", _info),
    Command("history", "show the conversation so far", _history),
    Command("fork", "continue in a copy of this session (up to MESSAGE_ID, or all of it)", _fork, "optional_word", "[MESSAGE_ID]"),
)


def find(name: str) -> Command | None:
    """The command called ``name`` (or one of its aliases)."""
    name = name.lower()
    return next((c for c in COMMANDS if name == c.name or name in c.aliases), None)


def parse(line: str) -> tuple[Command, str] | None:
    """``(command, argument)`` when ``line`` is a command, None when it is a message.

    Raises:
        UnknownCommand: ``line`` starts with ``/`` but names no command.
    """
    text = line.strip()
    slash = text.startswith("/")
    head, _, rest = text.lstrip("/").partition(" ")
    rest = rest.strip()
    command = find(head) if head else None
    if command is None:
        if slash and _WORD.fullmatch(head) and "\n" not in text:
            raise UnknownCommand(head)
        return None
    if slash:
        return command, rest
    if "\n" in text or command.arity == "text":
        return None
    if command.arity == "none":
        return (command, "") if not rest else None
    if not rest:
        return command, ""
    if " " in rest or (command.choices and rest not in command.choices):
        return None
    return command, rest
