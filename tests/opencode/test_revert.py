"""OpenCode's revert / unrevert and ``/mcp`` against the real server, the real Claude Code CLI and
the demo model: with file checkpointing (files restored and put back) and without (conversation only)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from e2e_support import in_background, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e

SHOUT_SERVER = Path(__file__).parent.parent / "e2e" / "mcp" / "shout_server.py"


@pytest.fixture(scope="module")
def checkpointing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A demo server with file checkpointing, edits allowed, and one allowed MCP command."""
    args = ("--demo", "--file-checkpointing", "--default-permission-mode", "acceptEdits", "--isolation", "none", "--mcp-allow", json.dumps([sys.executable]))
    with running_server(tmp_path_factory.mktemp("revert"), *args) as live:
        yield live


def _session(http: httpx.Client, workdir: Path) -> str:
    reply = http.post("/session", json={}, headers={"x-opencode-directory": quote(str(workdir))})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def _say(http: httpx.Client, ses_id: str, text: str) -> str:
    reply = http.post(f"/session/{ses_id}/message", json={"parts": [{"type": "text", "text": text}]})
    assert reply.status_code == 200, reply.text
    return "".join(p.get("text", "") for p in reply.json()["parts"] if p["type"] == "text")


def _users(http: httpx.Client, ses_id: str) -> list[dict[str, Any]]:
    return [m for m in http.get(f"/session/{ses_id}/message").json() if m["info"]["role"] == "user"]


def test_revert_restores_files_unrevert_puts_them_back_and_a_prompt_commits(checkpointing: ServerProcess) -> None:
    workdir = checkpointing.workspace / "revert_files"
    workdir.mkdir()
    (workdir / "a.txt").write_text("original\n")
    with httpx.Client(base_url=checkpointing.url, timeout=120) as http:
        ses_id = _session(http, workdir)
        _say(http, ses_id, "read `a.txt`")  # Claude Code writes over a file only after reading it
        _say(http, ses_id, "remember that beta is 2")
        _say(http, ses_id, "create a file a.txt with content changed")
        _say(http, ses_id, "create a file b.txt with content new")
        assert (workdir / "a.txt").read_text() == "changed\n" and (workdir / "b.txt").read_text() == "new\n"
        users = _users(http, ses_id)
        first, second = users[0]["info"]["id"], users[1]["info"]["id"]

        refused = http.post(f"/session/{ses_id}/revert", json={"messageID": first})
        assert refused.status_code == 400 and refused.json()["name"] == "BadRequestError"
        missing = http.post(f"/session/{ses_id}/revert", json={"messageID": "msg_nope"})
        assert missing.status_code == 404 and missing.json()["name"] == "NotFoundError"

        reverted = http.post(f"/session/{ses_id}/revert", json={"messageID": second})
        assert reverted.status_code == 200, reverted.text
        revert = reverted.json()["revert"]
        assert revert["messageID"] == second and revert["snapshot"]
        assert "a/a.txt" in revert["diff"] and "-changed" in revert["diff"] and "+original" in revert["diff"]
        assert (workdir / "a.txt").read_text() == "original\n" and not (workdir / "b.txt").exists()
        assert http.get(f"/session/{ses_id}").json()["revert"]["messageID"] == second
        assert len(_users(http, ses_id)) == 4  # as OpenCode's server: clients hide them, the server lists them

        back = http.post(f"/session/{ses_id}/unrevert")
        assert back.status_code == 200 and "revert" not in back.json()
        assert (workdir / "a.txt").read_text() == "changed\n" and (workdir / "b.txt").read_text() == "new\n"
        assert "revert" not in http.get(f"/session/{ses_id}").json()

        # Revert from the assistant message of the second turn: the whole turn goes.
        assistant = next(m for m in http.get(f"/session/{ses_id}/message").json() if m["info"]["role"] == "assistant" and m["info"]["parentID"] == second)
        assert http.post(f"/session/{ses_id}/revert", json={"messageID": assistant["info"]["id"]}).json()["revert"]["messageID"] == second
        assert not (workdir / "b.txt").exists()
        recalled = _say(http, ses_id, "what did I ask you to remember?")
        assert "beta" not in recalled
        assert [u["parts"][0]["text"] for u in _users(http, ses_id)] == ["read `a.txt`", "what did I ask you to remember?"]
        assert "revert" not in http.get(f"/session/{ses_id}").json()
        assert (workdir / "a.txt").read_text() == "original\n"  # committed: the files stay as reverted


def _frames(server: ServerProcess, seen: list[dict[str, Any]], until: str) -> None:
    """Read ``/event`` into ``seen`` until a frame of type ``until`` arrives."""
    with httpx.Client(base_url=server.url, timeout=60) as http, http.stream("GET", "/event") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1]["type"] == until:
                    return


def test_revert_without_checkpointing_is_conversation_only(server: ServerProcess, workdir: Path) -> None:
    (workdir / "kept.txt").write_text("kept\n")
    with httpx.Client(base_url=server.url, timeout=120) as http:
        ses_id = _session(http, workdir)
        _say(http, ses_id, "remember that alpha is 1")
        _say(http, ses_id, "remember that beta is 2")
        second = _users(http, ses_id)[1]["info"]["id"]
        seen: list[dict[str, Any]] = []
        reader = in_background(lambda: _frames(server, seen, "message.removed"))
        wait_until(lambda: seen, 10, what="the event stream")
        reverted = http.post(f"/session/{ses_id}/revert", json={"messageID": second}).json()
        assert reverted["revert"] == {"messageID": second}
        assert http.post(f"/session/{ses_id}/unrevert").json().get("revert") is None
        assert http.post(f"/session/{ses_id}/revert", json={"messageID": second}).status_code == 200
        recalled = _say(http, ses_id, "what did I ask you to remember?")
        assert "alpha is 1" in recalled and "beta" not in recalled
        assert len(http.get(f"/session/{ses_id}/message").json()) == 4
        assert (workdir / "kept.txt").read_text() == "kept\n"
        reader.result(timeout=30)
    # Subscribers were told: the revert, the unrevert, then the removal when the prompt committed it.
    updates = [f["properties"]["info"].get("revert") for f in seen if f["type"] == "session.updated" and f["properties"]["sessionID"] == ses_id]
    assert updates[:3] == [{"messageID": second}, None, {"messageID": second}], updates
    removed = [f["properties"]["messageID"] for f in seen if f["type"] == "message.removed"]
    assert second in removed


def test_mcp_lists_the_live_sessions_servers(checkpointing: ServerProcess) -> None:
    workdir = checkpointing.workspace / "mcp"
    workdir.mkdir()
    with httpx.Client(base_url=checkpointing.url, timeout=120) as http:
        assert http.get("/mcp").json() == {}
        created = http.post("/sessions", json={
            "cwd": str(workdir),
            "mcp_servers": {"shout": {"command": sys.executable, "args": [str(SHOUT_SERVER)]}},
            "allowed_tools": ["mcp__shout__shout"],
        })
        assert created.status_code == 201, created.text
        session = created.json()["session_id"]
        reply = http.post(f"/sessions/{session}/messages", json={"message": "call tool `mcp__shout__shout` with text hello"})
        assert reply.status_code == 200, reply.text
        assert http.get("/mcp").json() == {"shout": {"status": "connected"}}
        assert http.get("/mcp", params={"directory": str(workdir)}).json() == {"shout": {"status": "connected"}}
        assert http.get("/mcp", params={"directory": str(checkpointing.workspace)}).json() == {}
        assert http.post(f"/sessions/{session}/mcp/shout/toggle", json={"enabled": False}).status_code == 200
        assert http.get("/mcp").json() == {"shout": {"status": "disabled"}}
        http.delete(f"/sessions/{session}")
