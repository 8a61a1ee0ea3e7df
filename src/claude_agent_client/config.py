"""Command-line flags, environment defaults and the client's data paths."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .api import DEFAULT_URL

__all__ = ["MODES", "Options", "history_file", "parse_args"]

DEFAULT_COMMAND = "claude-agent-client"
COMMAND_VARIABLE = "AGENT_CLIENT_COMMAND"
"""Names how the user runs the client (start.sh sets ``./start.sh client``); default ``claude-agent-client``."""

MODES = ("default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto")
"""Permission modes the server accepts."""


@dataclass(frozen=True, slots=True)
class Options:
    """What the user asked for on the command line (or through the environment)."""

    server: str
    api_key: str | None
    new: bool
    session: str | None
    model: str | None
    cwd: str | None
    proxy: bool
    mode: str | None
    command: str = DEFAULT_COMMAND
    """How the user runs this client, for the hints it prints (``./start.sh client`` through start.sh)."""


def parse_args(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Options:
    """Parse flags; ``AGENT_SERVER_URL`` and ``AGENT_SERVER_API_KEY`` supply defaults, and
    ``AGENT_CLIENT_COMMAND`` how the user runs the client (for the "Resume with" hint).

    Exits with status 2 (argparse) on bad flags.
    """
    env = os.environ if env is None else env
    command = env.get(COMMAND_VARIABLE, "").strip() or DEFAULT_COMMAND
    parser = argparse.ArgumentParser(
        prog=command,
        description="Chat with Claude Code through a claude-agent-server: live replies, tool approvals, sessions.",
        epilog="Inside the client type /help for commands. Esc+Enter inserts a new line; Ctrl-C interrupts a reply.",
    )
    parser.add_argument("--server", default=env.get("AGENT_SERVER_URL") or DEFAULT_URL,
                        help="server URL (env AGENT_SERVER_URL; default %(default)s)")
    parser.add_argument("--api-key", default=env.get("AGENT_SERVER_API_KEY") or None,
                        help="the server's API key (env AGENT_SERVER_API_KEY)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--new", action="store_true", help="start a new session without asking")
    start.add_argument("--session", metavar="ID", help="attach to a live session or resume a saved one")
    parser.add_argument("--model", help="model for the session")
    parser.add_argument("--cwd", help="working directory of a new session (inside the server's workspace)")
    parser.add_argument("--proxy", action="store_true", help="route the session's model calls through the server's LiteLLM proxy")
    parser.add_argument("--mode", choices=MODES, help="initial permission mode")
    args = parser.parse_args(argv)
    return Options(
        server=args.server, api_key=args.api_key, new=args.new, session=args.session, model=args.model,
        cwd=args.cwd, proxy=args.proxy, mode=args.mode, command=command,
    )


def history_file(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/claude-agent-client/history`` (default ``~/.local/share/...``)."""
    env = os.environ if env is None else env
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "claude-agent-client" / "history"
