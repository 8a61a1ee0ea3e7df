"""The command that starts each Claude Code CLI: tied to the server's life.

When the server dies without cleaning up (``kill -9``), nothing in the SDK stops
its CLIs: they and their tools are reparented and live on. The launcher is a
two-line script the SDK runs as ``cli_path``; it executes the real CLI under
``setpriv --pdeathsig TERM`` (util-linux), so the kernel sends the CLI SIGTERM
when the server's process dies, and the CLI stops its tools and exits within
seconds. It runs the CLI in a session of its own (``setsid``), so a Ctrl-C in the
server's terminal reaches the server (which drains its turns) and not the CLIs
directly. It also runs the CLI under ``nice``, so that CLIs busy with the CPU do not
starve the server (measured: ``/health`` p99 218 ms → 13 ms with 16 turns running
on two cores). Without ``setpriv`` (not Linux), the real CLI runs directly.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
from pathlib import Path

import claude_agent_sdk

from ..datadir import private_directory

log = logging.getLogger(__name__)


def bundled_cli() -> Path:
    """The Claude Code CLI shipped inside the ``claude-agent-sdk`` wheel."""
    return Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


def write_launcher(directory: Path, cli: Path | None = None, niceness: int = 10) -> Path | None:
    """Write ``directory/claude-launcher`` (mode 0700, in a directory made 0700) running ``cli`` (default: the
    bundled CLI) under ``setpriv --pdeathsig TERM`` and ``nice -n niceness``; returns its path.

    Returns:
        None when ``setpriv`` is not installed (then the CLI runs unwrapped and
        may outlive a killed server).
    """
    prefix = launch_prefix(niceness)
    if prefix is None:
        return None
    target = cli or bundled_cli()
    private_directory(directory)
    launcher = directory / "claude-launcher"
    script = f'#!/bin/sh\nexec {shlex.join(prefix)} {shlex.quote(str(target))} "$@"\n'
    temporary = launcher.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(script)
    temporary.chmod(0o700)
    temporary.replace(launcher)
    return launcher


def launch_prefix(niceness: int = 10) -> list[str] | None:
    """``[setsid] setpriv --pdeathsig TERM -- [nice -n niceness]``: what the CLI (or its sandbox) runs under.

    Returns:
        None when ``setpriv`` is not installed (then the CLI runs unwrapped and
        may outlive a killed server).
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        log.warning("setpriv not found: Claude Code processes will not be stopped if the server is killed")
        return None
    setsid = shutil.which("setsid")
    nice = [shutil.which("nice") or "nice", "-n", str(int(niceness))] if niceness else []
    return [*([setsid] if setsid else []), setpriv, "--pdeathsig", "TERM", "--", *nice]
