"""Asking the human about one permission request: panel, warnings, y/n/a/d."""

from __future__ import annotations

from dataclasses import dataclass

from claude_agent_protocol import PermissionRequestView
from rich.console import Console
from rich.text import Text

from . import render
from .inputs import UserInput
from .risk import warnings_for

__all__ = ["Answer", "QUESTION", "ask_permission", "parse_answer"]

QUESTION = "Allow? [y]es / [n]o / [a]lways / [d]etails "


@dataclass(frozen=True, slots=True)
class Answer:
    """The human's decision: ``always`` also applies the request's suggested rules."""

    allowed: bool
    always: bool = False
    message: str | None = None


def parse_answer(reply: str) -> Answer | str | None:
    """``y``/``yes`` allow, ``a``/``always`` allow and remember, ``n``/``no``/empty deny
    (``n <reason>`` passes the reason to the model), ``d``/``details`` → ``"details"``.
    Returns None for anything else."""
    word, _, rest = reply.strip().partition(" ")
    word = word.lower()
    if word in ("y", "yes"):
        return Answer(True)
    if word in ("a", "always"):
        return Answer(True, always=True)
    if word in ("", "n", "no"):
        return Answer(False, message=rest.strip() or None)
    if word in ("d", "details"):
        return "details"
    return None


async def ask_permission(request: PermissionRequestView, ui: UserInput, console: Console, cwd: str | None = None) -> Answer:
    """Show the request and ask until the answer is y, n, a or empty (= no).

    End of input counts as no. Raises KeyboardInterrupt when the user presses Ctrl-C.
    """
    warnings = warnings_for(request.tool_name, request.tool_input, cwd, request.blocked_path)
    console.print(render.permission_panel(request, warnings, cwd))
    while True:
        try:
            reply = await ui.ask(QUESTION)
        except EOFError:
            return Answer(False, message="no answer: end of input")
        choice = parse_answer(reply)
        if choice == "details":
            console.print(render.permission_panel(request, warnings, cwd, full=True))
        elif isinstance(choice, Answer):
            if choice.always and not request.suggestions:
                console.print(Text("  (no rule to remember for this call; allowing once)", style="dim"))
            return choice
        else:
            console.print(Text("  Please answer y (yes), n (no), a (always) or d (details). Enter alone means no.", style="yellow"))
