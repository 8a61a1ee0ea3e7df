"""``claude-agent-client``: the interactive terminal client.

Start-up checks ``/health``, picks or creates a session, then loops: read a line,
run it as a command or send it as a message. Errors end as one readable line
and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from . import commands
from .api import AgentClient
from .chat import Chat, ServerGone
from .config import MODES, Options, history_file, parse_args
from .errors import APIError, AuthenticationError, ClientError, ServerUnavailable
from .inputs import PROMPT, CommandCompleter, PlainInput, TerminalInput
from .picker import choose_session, recent_sessions

__all__ = ["main", "run"]

PICKER_SIZE = 10


def _fail(console: Console, message: str) -> int:
    """One line on stderr; returns the exit status 1."""
    Console(stderr=True, highlight=False, no_color=console.no_color).print(
        Text(f"claude-agent-client: {message}", style="bold red"), soft_wrap=True
    )
    return 1


def _resume_hint(options: Options, session_id: str) -> str:
    """The command that reopens ``session_id``, as the user runs the client (``./start.sh client``
    through start.sh, else ``claude-agent-client``)."""
    return f"{options.command} --session {session_id}"


def _terminal_input(chat: Chat) -> TerminalInput:
    """prompt-toolkit input whose completion and toolbar read the chat's state."""

    def models() -> list[str]:
        return ["default", *chat.cached_models()]

    def modes() -> tuple[str, ...]:
        return MODES

    names = [n for c in commands.COMMANDS for n in (c.name, *c.aliases)]
    return TerminalInput(history_file(), CommandCompleter(names, {"model": models, "mode": modes}), chat.toolbar_text)


async def _open_first_session(chat: Chat) -> None:
    options = chat.options
    if options.session:
        await chat.open(options.session)
        return
    if not options.new:
        choices = await recent_sessions(chat.client, options.cwd, PICKER_SIZE)
        if choices:
            choice = await choose_session(choices, chat.ui, chat.console)
            if choice is not None:
                await chat.open(choice.session_id)
                return
    await chat.start_new()


async def _confirm_quit(chat: Chat) -> bool:
    try:
        answer = await chat.ui.ask("Quit? [y/N] ")
    except (EOFError, KeyboardInterrupt):
        return True
    return answer.strip().lower() in ("y", "yes")


async def _is_cli_command(chat: Chat, name: str) -> bool:
    """Whether Claude Code itself knows ``/name`` (then the line goes to the model as is)."""
    try:
        await chat.server_info()
    except APIError:
        return False
    return name in chat.cached_commands()


class _UserCancelled(Exception):
    """KeyboardInterrupt carried across a task boundary."""


async def _interruptible(work: Coroutine[Any, Any, None], chat: Chat) -> None:
    """Run ``work`` so that Ctrl-C outside a turn (a slow request, a session starting)
    cancels it; that cancellation surfaces as KeyboardInterrupt."""

    async def guarded() -> None:
        try:
            await work
        except KeyboardInterrupt:  # must not escape a task: asyncio would re-raise it out of the loop
            raise _UserCancelled from None

    task = asyncio.ensure_future(guarded())
    chat.cancel_current = task.cancel
    try:
        await task
    except _UserCancelled:
        raise KeyboardInterrupt from None
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        raise KeyboardInterrupt from None
    finally:
        chat.cancel_current = None


async def _loop(chat: Chat) -> None:
    while True:
        try:
            draft, chat.draft = chat.draft, ""
            after, chat.after = chat.after, None
            if after is not None:
                line = after
            else:
                line = await (chat.ui.read_message(PROMPT, draft) if draft else chat.ui.read_message(PROMPT))
        except EOFError:
            return
        except KeyboardInterrupt:
            if await _confirm_quit(chat):
                return
            continue
        if not line.strip():
            continue
        try:
            parsed = commands.parse(line)
        except commands.UnknownCommand as exc:
            parsed = None
            if not await _is_cli_command(chat, exc.name):
                chat.console.print(Text(f"Unknown command /{exc.name}. Type /help for the list.", style="yellow"))
                continue
        work = chat.send(line.strip()) if parsed is None else parsed[0].run(chat, parsed[1])
        try:
            await _interruptible(work, chat)
        except commands.ExitRequested:
            return
        except KeyboardInterrupt:
            chat.console.print(Text("Cancelled.", style="yellow"))
        except (ServerGone, ServerUnavailable, AuthenticationError):
            raise
        except APIError as exc:
            chat.console.print(Text(f"Error {exc.status_code}: {exc.message}", style="red"))


async def run(options: Options, console: Console | None = None) -> int:
    """Run the interactive client until the user leaves. Returns the exit status."""
    console = console or Console(highlight=False)
    async with AgentClient(options.server, options.api_key) as client:
        try:
            await client.health()
        except ServerUnavailable:
            return _fail(console, f"no agent server at {options.server}. Start one with `claude-agent-server` "
                                  "(or `./start.sh demo`), or point --server / AGENT_SERVER_URL at it.")
        except APIError as exc:
            return _fail(console, f"{options.server} does not look like an agent server (GET /health: {exc})")
        chat = Chat(client, console, PlainInput(), options)
        if sys.stdin.isatty() and sys.stdout.isatty():
            chat.ui = _terminal_input(chat)
        loop = asyncio.get_running_loop()
        status = 0
        loop.add_signal_handler(signal.SIGINT, chat.on_sigint)
        try:
            await _interruptible(_open_first_session(chat), chat)
            await _loop(chat)
        except AuthenticationError:
            return _fail(console, f"the server at {options.server} needs an API key: pass --api-key or set AGENT_SERVER_API_KEY.")
        except ServerGone as exc:
            console.print(Text(f"\nThe server at {options.server} is gone ({exc.reason}).", style="bold red"))
            console.print(Text.assemble("Your session id is ", (exc.session_id, "bold"), f"; resume it later with: {_resume_hint(options, exc.session_id)}"))
            return 1
        except ServerUnavailable as exc:
            hint = f" Resume later with: {_resume_hint(options, chat.session.session_id)}" if chat.session else ""
            return _fail(console, f"lost the server at {options.server} ({exc.reason}).{hint}")
        except APIError as exc:
            return _fail(console, f"the server refused: {exc.message} (HTTP {exc.status_code})")
        except KeyboardInterrupt:
            console.print()
            status = 130
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        session = chat.session
        if session is not None:
            with contextlib.suppress(ClientError):
                await chat.close()
            console.print(Text.assemble("Session ", (session.session_id, "bold"), f" saved. Resume with: {_resume_hint(options, session.session_id)}", style="dim"))
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point. Returns the exit status."""
    options = parse_args(argv)
    try:
        return asyncio.run(run(options))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
