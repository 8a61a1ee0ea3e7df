"""The session picker: recent resumable sessions plus "new"."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from . import render
from .inputs import UserInput
from .models import AvailableSession

__all__ = ["choose_session"]


async def choose_session(sessions: Sequence[AvailableSession], ui: UserInput, console: Console) -> AvailableSession | None:
    """Show ``sessions`` and ask for a number; returns the choice, or None for a new session
    (``n``, an empty answer, or end of input). Ctrl-C propagates as KeyboardInterrupt."""
    console.print(Text("Recent sessions", style="bold"))
    console.print(render.sessions_table(sessions))
    while True:
        try:
            reply = (await ui.ask(f"Resume which? [1-{len(sessions)}, n = new] ")).strip().lower()
        except EOFError:
            return None
        if reply in ("", "n", "new"):
            return None
        if reply.isdigit() and 1 <= int(reply) <= len(sessions):
            return sessions[int(reply) - 1]
        matches = [s for s in sessions if s.session_id.startswith(reply)]
        if len(matches) == 1:
            return matches[0]
        console.print(Text(f"  Type a number from 1 to {len(sessions)}, or n for a new session.", style="yellow"))
