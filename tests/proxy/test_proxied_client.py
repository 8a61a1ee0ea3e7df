"""The issue's finish line: ``claude-agent-client --proxy --model <configured model>`` gets a
working Claude Code session on that model (client → server → real CLI → /v1/messages →
LiteLLM → the scripted OpenAI-compatible upstream), tool permission included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from client.client_pty import client_env
from proxy.proxy_support import API_KEY
from proxy.upstream import ScriptedUpstream
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def test_client_with_proxy_flag_runs_on_the_configured_model(
    proxy_server: ServerProcess, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    workdir = proxy_server.workspace / "client-proxied"
    workdir.mkdir()
    call = json.dumps({"command": "echo via-client > client-proof.txt", "description": "Write a proof file"})
    lines = [f"please TOOL Bash {call}", "y", "thanks", "exit"]
    run = subprocess.run(
        [sys.executable, "-m", "claude_agent_client.app", "--server", proxy_server.url, "--api-key", API_KEY,
         "--new", "--proxy", "--model", "scripted", "--cwd", str(workdir)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=240, env=client_env(tmp_path),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "tool said:" in run.stdout  # the model summarised the tool result it received
    assert "scripted reply from scripted-model" in run.stdout  # the follow-up turn, same session
    assert (workdir / "client-proof.txt").read_text() == "via-client\n"
    models = {c.body["model"] for c in upstream.chat_requests()}
    assert models == {"scripted-model"}, models  # background calls too: nothing else was asked for
