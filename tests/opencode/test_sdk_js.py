"""OpenCode's JavaScript SDK (``@opencode-ai/sdk`` 1.19.6, its default v1 client, run by the
machine's ``node``) against the real server, the real Claude Code CLI and the demo model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from servers import ServerProcess

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).with_name("sdk_v1_events.mjs")


def test_the_v1_client_yields_the_turns_events(opencode_sdk: Path, server: ServerProcess) -> None:
    """Its SSE parser splits frames on a blank LF line only: CRLF frames were never yielded."""
    done = subprocess.run(["node", str(SCRIPT), str(opencode_sdk), server.url, "say hello from node"], capture_output=True, text=True, timeout=120)
    out = json.loads(done.stdout)
    assert done.returncode == 0, (out.get("error"), done.stderr[-2000:], [e.get("type") for e in out["events"]])
    events = out["events"]
    assert events[0] == {"type": "server.connected", "properties": {}}
    mine = [e for e in events if e["properties"].get("sessionID") == out["session"]]
    assert [e["type"] for e in mine][-1] == "session.idle"
    texts = [e["properties"]["part"]["text"] for e in mine if e["type"] == "message.part.updated" and e["properties"]["part"]["type"] == "text"]
    assert texts[-1] == "hello from node"
    assert out["reply"]["info"]["role"] == "assistant" and out["reply"]["parts"][-1]["text"] == "hello from node"
    message = out["message"]  # session.message: GET /session/{id}/message/{messageID}
    assert message["info"] == out["reply"]["info"]
    assert [(p["id"], p.get("text")) for p in message["parts"]] == [(p["id"], p.get("text")) for p in out["reply"]["parts"]]
