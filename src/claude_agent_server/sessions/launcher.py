"""The command that starts each Claude Code CLI: tied to the server's life.

When the server dies without cleaning up (``kill -9``), nothing in the SDK stops
its CLIs: they and their tools are reparented and live on. The launcher is a
two-line script the SDK runs as ``cli_path``; it ``exec``\\ s the real CLI under
``setpriv --pdeathsig TERM`` (util-linux), so the kernel sends the CLI SIGTERM
when the server's process dies, and the CLI stops its tools and exits within
seconds. Without ``setpriv`` (not Linux), the real CLI runs directly.
"""

from __future__ import annotations

import logging
import shlex
import shutil
from pathlib import Path

import claude_agent_sdk

log = logging.getLogger(__name__)


def bundled_cli() -> Path:
    """The Claude Code CLI shipped inside the ``claude-agent-sdk`` wheel."""
    return Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


def write_launcher(directory: Path, cli: Path | None = None) -> Path | None:
    """Write ``directory/claude-launcher`` (mode 0700) running ``cli`` (default: the
    bundled CLI) under ``setpriv --pdeathsig TERM``; returns its path.

    Returns:
        None when ``setpriv`` is not installed (then the CLI runs unwrapped and
        may outlive a killed server).
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        log.warning("setpriv not found: Claude Code processes will not be stopped if the server is killed")
        return None
    target = cli or bundled_cli()
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / "claude-launcher"
    script = f'#!/bin/sh\nexec {shlex.quote(setpriv)} --pdeathsig TERM -- {shlex.quote(str(target))} "$@"\n'
    temporary = launcher.with_suffix(".tmp")
    temporary.write_text(script)
    temporary.chmod(0o700)
    temporary.replace(launcher)
    return launcher
