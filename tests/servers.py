"""Test support: run the real ``claude-agent-server`` console script as a subprocess.

The server gets its own HOME (so Claude Code's transcripts land in a temp dir),
its own workspace, no API keys from the developer's environment, and
``IS_SANDBOX=1`` (these machines run as root; see NOTES).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import threading
from typing import Any

import httpx
import uvicorn

SCRUBBED_PREFIXES = ("ANTHROPIC_", "AGENT_SERVER_", "CLAUDE_", "OPENAI_", "AWS_", "LITELLM_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app: Any, port: int, name: str, lifespan: str = "off", timeout: float = 10) -> Iterator[None]:
    """Serve an ASGI ``app`` on 127.0.0.1:``port`` with uvicorn in a thread for the block (lifespan
    ``"on"`` runs the app's own start-up and shutdown).

    Raises:
        RuntimeError: it did not start within ``timeout`` seconds.
    """
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan=lifespan))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment minus API keys and our own settings, with HOME at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"), IS_SANDBOX="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class ServerProcess:
    """A live server on 127.0.0.1 with ``url``, ``workspace``, ``home`` and ``log``."""

    def __init__(
        self, root: Path, *args: str, api_key: str | None = None, env: dict[str, str] | None = None,
        home: Path | None = None, workspace: Path | None = None,
    ) -> None:
        """A server whose HOME, workspace, data dir and log live under ``root`` (``home`` and
        ``workspace`` elsewhere when given: several servers sharing them); a second one on the
        same ``root`` is the same server restarted (on another port)."""
        self.home = home or root / "home"
        self.workspace = workspace or root / "workspace"
        self.home.mkdir(parents=True, exist_ok=True)
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self.log = root / f"server-{self.port}.log"
        extra = dict(env or {})
        if api_key:
            extra["AGENT_SERVER_API_KEY"] = api_key
        self._env = clean_env(self.home, **extra)
        self._args = [
            sys.executable, "-m", "claude_agent_server",
            "--port", str(self.port), "--workspace", str(self.workspace), "--log-level", "warning", *args,
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=kwargs.pop("timeout", 60), **kwargs)  # type: ignore[arg-type]

    def start(self, timeout: float = 60) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self._args, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /health within {timeout} s:\n{self.log.read_text()}")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 60) -> int | None:
        """Send ``sig`` and wait for the exit (SIGKILL to the group after ``timeout`` s); the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()

    def kill(self) -> None:
        """``kill -9`` the server process alone (its CLIs are left to fend for themselves)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def cli_processes(self) -> list[int]:
        """Pids of this server's Claude Code CLI processes (to find orphans): those whose HOME
        is this server's, or (sandboxed: HOME is the sandbox's own) whose bwrap names this
        server's HOME (the private homes are in its data dir)."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
                environ = (proc / "environ").read_bytes()
            except OSError:
                continue
            if not cmdline.split(b"\0")[0].endswith(b"_bundled/claude"):
                continue
            if f"HOME={self.home}\0".encode() in environ or self._sandboxed_here(proc):
                found.append(int(proc.name))
        return found

    def _sandboxed_here(self, proc: Path) -> bool:
        for _ in range(3):  # the CLI's parent is bwrap's pid 1, whose parent is bwrap
            try:
                parent = Path("/proc") / (proc / "stat").read_text().rpartition(")")[2].split()[1]
                cmdline = (parent / "cmdline").read_bytes()
            except (OSError, IndexError):
                return False
            if cmdline.split(b"\0")[0].endswith(b"bwrap") and f"{self.home}/".encode() in cmdline:
                return True
            proc = parent
        return False


@contextmanager
def running_server(root: Path, *args: str, **kwargs: object) -> Iterator[ServerProcess]:
    """Start a server, yield it, stop it (and fail if it left CLI processes behind)."""
    server = ServerProcess(root, *args, **kwargs)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()
        deadline = time.monotonic() + 10
        while server.cli_processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        orphans = server.cli_processes()
        assert not orphans, f"the server left Claude Code processes behind: {orphans}"
