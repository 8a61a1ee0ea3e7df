"""The ``opencode attach URL`` TUI (1.18.x) in tmux: it draws, a message gets its reply, a Bash
permission dialog appears and ``Allow once`` runs the command."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout


@pytest.fixture
def tui(opencode_bin: str, server: ServerProcess, workdir: Path, oc_env: dict[str, str]) -> Iterator[str]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is missing")
    name = f"oc-{uuid.uuid4().hex[:8]}"
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in oc_env.items() if k.startswith(("HOME", "XDG_", "OPENCODE_")))
    command = f"cd {shlex.quote(str(workdir))} && env {env} {shlex.quote(opencode_bin)} attach {server.url} --dir {shlex.quote(str(workdir))}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "45", command], check=True, timeout=30)
    try:
        yield name
    finally:
        tmux("kill-session", "-t", name)


def screen_has(name: str, text: str) -> bool:
    return text in tmux("capture-pane", "-p", "-t", name)


def test_tui_chat_and_permission(tui: str, workdir: Path) -> None:
    wait_until(lambda: screen_has(tui, "Demo model"), 60, what="the TUI to draw")
    tmux("send-keys", "-t", tui, "remember that my name is Ada")
    tmux("send-keys", "-t", tui, "Enter")
    wait_until(lambda: screen_has(tui, "Got it, I'll remember: my name is Ada."), 60, what="the reply")
    tmux("send-keys", "-t", tui, "run `echo hi > tui.txt`")
    tmux("send-keys", "-t", tui, "Enter")
    wait_until(lambda: screen_has(tui, "Permission required") and screen_has(tui, "Allow once"), 60, what="the permission dialog")
    tmux("send-keys", "-t", tui, "Enter")  # the dialog's first choice: Allow once
    wait_until(lambda: (workdir / "tui.txt").exists(), 60, what="the command to run")
    assert (workdir / "tui.txt").read_text() == "hi\n"
    wait_until(lambda: screen_has(tui, "The tool ran and printed nothing."), 60, what="the summary")
