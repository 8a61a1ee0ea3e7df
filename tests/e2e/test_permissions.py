"""Permission requests from the real CLI, answered over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from e2e_support import answer, reply_text, send_in_background, status, tool_results, wait_for_permissions, wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def test_approve_write_creates_the_file(server: ServerProcess, http: httpx.Client, session: str, workdir: Path) -> None:
    pending = send_in_background(server, session, "create a file approved.txt with content approved by a human")
    [request] = wait_for_permissions(http, session)
    assert request["tool_name"] == "Write"
    assert request["tool_input"]["file_path"] == str(workdir / "approved.txt")
    assert request["tool_use_id"] and request["created_at"]
    assert status(http, session)["status"] == "waiting_permission"
    assert status(http, session)["pending_permission"]["request_id"] == request["request_id"]
    assert answer(http, session, request["request_id"], True).json()["status"] == "ok"
    reply = pending.result(timeout=60).json()
    [result] = tool_results(reply)
    assert result["is_error"] is False
    assert (workdir / "approved.txt").read_text() == "approved by a human\n"
    assert [m["type"] for m in reply["messages"]] == ["text", "tool_use", "tool_result", "text"]


def test_deny_bash_does_not_run_it(server: ServerProcess, http: httpx.Client, session: str, workdir: Path) -> None:
    pending = send_in_background(server, session, "run `echo denied > denied.txt`")
    [request] = wait_for_permissions(http, session)
    assert request["tool_name"] == "Bash"
    assert request["tool_input"]["command"] == "echo denied > denied.txt"
    answer(http, session, request["request_id"], False, message="not on my machine")
    reply = pending.result(timeout=60).json()
    [result] = tool_results(reply)
    assert result["is_error"] is True
    assert "not on my machine" in result["content"]
    assert "did not run" in reply_text(reply)
    assert not (workdir / "denied.txt").exists()


def test_parallel_requests_answered_in_reverse_order(server: ServerProcess, http: httpx.Client, session: str) -> None:
    # Reads outside the cwd ask for permission, and Read calls run in parallel,
    # so both requests are pending at once. (System files: a sandboxed session sees
    # nothing of the test's own temporary directory but its cwd.)
    message = "read `/etc/passwd` and `/etc/group`"
    pending = send_in_background(server, session, message)
    first, second = wait_for_permissions(http, session, count=2)
    assert [first["tool_name"], second["tool_name"]] == ["Read", "Read"]
    assert first["request_id"] != second["request_id"]
    assert answer(http, session, second["request_id"], True).status_code == 200
    assert answer(http, session, first["request_id"], False, message="not that one").status_code == 200
    reply = pending.result(timeout=60).json()
    results = {r["tool_use_id"]: r for r in tool_results(reply)}
    denied, allowed = results[first["tool_use_id"]], results[second["tool_use_id"]]
    assert denied["is_error"] is True and "not that one" in denied["content"]
    assert allowed["is_error"] is False
    allowed_line = Path(second["tool_input"]["file_path"]).read_text().splitlines()[0]
    assert allowed_line in allowed["content"]


def test_unanswered_request_times_out_as_denied(server: ServerProcess, http: httpx.Client, session: str, workdir: Path) -> None:
    # The server fixture sets AGENT_SERVER_PERMISSION_TIMEOUT=3.
    pending = send_in_background(server, session, "create a file late.txt with content too late")
    [request] = wait_for_permissions(http, session)
    reply = pending.result(timeout=60).json()
    [result] = tool_results(reply)
    assert result["is_error"] is True
    assert "within 3 s" in result["content"]
    assert not (workdir / "late.txt").exists()
    stale = answer(http, session, request["request_id"], True)
    assert stale.status_code == 404
    assert "not pending" in stale.json()["detail"]


def test_unknown_request_id_is_404(http: httpx.Client, session: str) -> None:
    assert answer(http, session, "no-such-request", True).status_code == 404


def test_interrupt_denies_pending_requests(server: ServerProcess, http: httpx.Client, session: str, workdir: Path) -> None:
    pending = send_in_background(server, session, "create a file interrupted.txt")
    [request] = wait_for_permissions(http, session)
    http.post(f"/sessions/{session}/interrupt")
    reply = pending.result(timeout=30).json()
    assert reply["terminal_reason"] == "aborted_tools"  # the CLI stops at the denied tool call
    assert not (workdir / "interrupted.txt").exists()
    assert answer(http, session, request["request_id"], True).status_code == 404
    wait_until(lambda: status(http, session)["status"] == "connected", what="the session to be idle")


def test_always_applies_the_suggested_rules(server: ServerProcess, http: httpx.Client, session: str, workdir: Path) -> None:
    pending = send_in_background(server, session, "create a file first.txt with content one")
    [request] = wait_for_permissions(http, session)
    assert request["suggestions"], "the CLI suggests a rule for 'always allow'"
    answer(http, session, request["request_id"], True, apply_suggestions=True)
    assert pending.result(timeout=60).status_code == 200
    # The suggestion (accept edits for this session) now lets the next write run without asking.
    reply = http.post(f"/sessions/{session}/messages", json={"message": "create a file second.txt with content two"})
    assert [r["is_error"] for r in tool_results(reply.json())] == [False]
    assert (workdir / "second.txt").read_text() == "two\n"
