"""The client must stay SDK-free: importing every module pulls in none of the server's stack."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import claude_agent_client

FORBIDDEN = ("claude_agent_sdk", "litellm", "fastapi", "uvicorn", "claude_agent_server")


def test_client_modules_import_without_the_server_stack() -> None:
    modules = sorted(f"claude_agent_client.{m.name}" for m in pkgutil.iter_modules(claude_agent_client.__path__))
    assert {"claude_agent_client.api", "claude_agent_client.app", "claude_agent_client.render", "claude_agent_client.commands"} <= set(modules)
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == []
